namespace Fathom.Engine.Scheduling;

/// <summary>The order in which waiting requests are admitted and running ones preempted.</summary>
public enum SchedulingPolicy
{
    /// <summary>First come, first served; the latest arrival is preempted first.</summary>
    Fcfs,

    /// <summary>Lower <see cref="EngineRequest.Priority"/> first, ties first come first served; the highest value (then latest arrival) is preempted first.</summary>
    Priority,
}
