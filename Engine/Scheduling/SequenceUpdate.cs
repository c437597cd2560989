using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

/// <summary>A token appended to a sequence by <see cref="Scheduler.Update(SchedulerOutput, IReadOnlyDictionary{long, IReadOnlyList{SampledToken}})"/>.</summary>
/// <param name="Sequence">The sequence (its request id and index say where the token goes).</param>
/// <param name="Token">The token, with log probabilities when requested.</param>
/// <param name="FinishReason">Set when this token ended the sequence.</param>
public sealed record SequenceUpdate(Sequence Sequence, SampledToken Token, FinishReason? FinishReason);
