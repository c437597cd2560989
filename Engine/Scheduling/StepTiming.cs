namespace Fathom.Engine.Scheduling;

/// <summary>
/// One forward step as the engine timed it: <paramref name="Tokens"/> tokens, of which <paramref name="Decodes"/>
/// were single-token decodes and the rest prefill, in <paramref name="Elapsed"/>.
/// </summary>
public sealed record StepTiming(int Tokens, int Decodes, TimeSpan Elapsed)
{
    /// <summary>Prefill tokens of the step (prompt chunks, recomputed tokens after a preemption).</summary>
    public int PrefillTokens => Tokens - Decodes;
}
