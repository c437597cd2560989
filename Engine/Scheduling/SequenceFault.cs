namespace Fathom.Engine.Scheduling;

/// <summary>A sequence that <see cref="EngineCore.Step"/> failed, and why; it is finished and its blocks are freed.</summary>
/// <param name="Sequence">The failed sequence (its request's other sequences still run until aborted).</param>
/// <param name="Error">What its request should end with.</param>
public sealed record SequenceFault(Sequence Sequence, SequenceFailedException Error);
