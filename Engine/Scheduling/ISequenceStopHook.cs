namespace Fathom.Engine.Scheduling;

/// <summary>
/// Lets the detokenizing layer end a sequence when a token completes a stop string (see
/// <see cref="Sampling.StopStringMatcher"/>): asked after every appended token that did not already end it.
/// </summary>
public interface ISequenceStopHook
{
    /// <summary>True to finish <paramref name="sequence"/> with reason <see cref="FinishReason.Stop"/> after <paramref name="tokenId"/>.</summary>
    bool ShouldStop(Sequence sequence, int tokenId);
}
