namespace Fathom.Engine.Scheduling;

/// <summary>Where a sequence is in its life.</summary>
public enum SequenceStatus
{
    /// <summary>Queued for admission (new, or preempted and to be recomputed).</summary>
    Waiting,

    /// <summary>Admitted: holds KV blocks and is scheduled each step.</summary>
    Running,

    /// <summary>Done; its blocks are back in the pool.</summary>
    Finished,
}
