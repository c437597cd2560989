namespace Fathom.Engine.Scheduling;

/// <summary>One sequence's share of a step: which of its tokens to compute and whether to sample after them.</summary>
/// <param name="Sequence">The sequence.</param>
/// <param name="NumTokens">Tokens to compute this step (1 for a decode, a chunk for a prefill).</param>
/// <param name="StartPosition">Position of the first of them (= computed tokens before the step).</param>
/// <param name="TokenOffset">Index of the first of them in the step's flat token list.</param>
/// <param name="NumCachedTokens">Leading tokens found in the prefix cache on admission this step (else 0).</param>
/// <param name="SampleCount">Tokens to sample from the last position's logits: 0 mid-prefill, n for a prompt that forks, else 1.</param>
/// <param name="LogitsRow">Row of the step's logits holding this sequence's last position, or -1.</param>
/// <param name="BlockTable">The sequence's physical blocks for this step.</param>
public sealed record ScheduledSequence(
    Sequence Sequence,
    int NumTokens,
    int StartPosition,
    int TokenOffset,
    int NumCachedTokens,
    int SampleCount,
    int LogitsRow,
    IReadOnlyList<int> BlockTable);
