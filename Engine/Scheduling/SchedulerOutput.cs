using Fathom.Engine.KvCache;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// One forward step: which sequences compute how many tokens, flattened into a batch. Sequence i's tokens are
/// <c>TokenIds[Sequences[i].TokenOffset ..][.. Sequences[i].NumTokens]</c>; before the forward pass the runner
/// performs <see cref="BlockCopies"/> and <see cref="BlockLoads"/>.
/// </summary>
public sealed class SchedulerOutput
{
    internal SchedulerOutput(
        long stepIndex,
        IReadOnlyList<ScheduledSequence> sequences,
        int[] tokenIds,
        int[] positions,
        int[] sequenceIndices,
        int[] logitsIndices,
        IReadOnlyList<BlockCopy> blockCopies,
        IReadOnlyList<KvBlockLoad> blockLoads,
        IReadOnlyList<long> preemptedSequenceIds)
    {
        StepIndex = stepIndex;
        Sequences = sequences;
        TokenIds = tokenIds;
        Positions = positions;
        SequenceIndices = sequenceIndices;
        LogitsIndices = logitsIndices;
        BlockCopies = blockCopies;
        BlockLoads = blockLoads;
        PreemptedSequenceIds = preemptedSequenceIds;
    }

    /// <summary>Steps scheduled before this one.</summary>
    public long StepIndex { get; }

    /// <summary>The scheduled sequences, in batch order: decodes, then prefill chunks, then admissions.</summary>
    public IReadOnlyList<ScheduledSequence> Sequences { get; }

    /// <summary>Token ids to compute. // (n_tokens)</summary>
    public int[] TokenIds { get; }

    /// <summary>Position of each token in its sequence. // (n_tokens)</summary>
    public int[] Positions { get; }

    /// <summary>Index into <see cref="Sequences"/> of each token. // (n_tokens)</summary>
    public int[] SequenceIndices { get; }

    /// <summary>Flat token indices whose logits the step must return, one row each, in this order. // (n_logits)</summary>
    public int[] LogitsIndices { get; }

    /// <summary>Copy-on-write block copies to perform first.</summary>
    public IReadOnlyList<BlockCopy> BlockCopies { get; }

    /// <summary>Blocks to fill from the second tier first.</summary>
    public IReadOnlyList<KvBlockLoad> BlockLoads { get; }

    /// <summary>Sequences preempted (blocks freed, back to waiting) while building this step.</summary>
    public IReadOnlyList<long> PreemptedSequenceIds { get; }

    /// <summary>Tokens computed in this step.</summary>
    public int NumScheduledTokens => TokenIds.Length;

    /// <summary>Whether there is nothing to run.</summary>
    public bool IsEmpty => Sequences.Count == 0;
}
