namespace Fathom.Engine.Model;

/// <summary>
/// One forward step over a flat list of tokens drawn from one or more sequences. Token <c>t</c> sits at
/// <see cref="Positions"/>[t] of sequence <see cref="SequenceIndices"/>[t]; that sequence's KV lives in the
/// physical blocks <see cref="BlockTables"/>[s] (position <c>p</c> in block <c>table[p / blockSize]</c>, slot
/// <c>p % blockSize</c>). Tokens of one sequence see every cached position up to their own (causal).
/// </summary>
public sealed class ForwardBatch
{
    private readonly int[] _tokens;
    private readonly int[] _positions;
    private readonly int[] _sequenceIndices;
    private readonly int[] _logitTokenIndices;

    /// <summary>Creates and checks a batch.</summary>
    /// <param name="tokens">Token ids. // (n_tokens)</param>
    /// <param name="positions">Position of each token in its sequence. // (n_tokens)</param>
    /// <param name="sequenceIndices">Index into <paramref name="blockTables"/> of each token's sequence. // (n_tokens)</param>
    /// <param name="blockTables">Physical KV block ids of each sequence, in position order. // (n_seqs)[blocks]</param>
    /// <param name="logitTokenIndices">Which tokens (indices into <paramref name="tokens"/>) need logits, in output order.</param>
    /// <exception cref="ArgumentException">Lengths differ, or indices are out of range.</exception>
    public ForwardBatch(int[] tokens, int[] positions, int[] sequenceIndices, int[][] blockTables, int[] logitTokenIndices)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(positions);
        ArgumentNullException.ThrowIfNull(sequenceIndices);
        ArgumentNullException.ThrowIfNull(blockTables);
        ArgumentNullException.ThrowIfNull(logitTokenIndices);
        if (tokens.Length == 0)
        {
            throw new ArgumentException("a batch needs at least one token", nameof(tokens));
        }

        if (positions.Length != tokens.Length || sequenceIndices.Length != tokens.Length)
        {
            throw new ArgumentException($"tokens ({tokens.Length}), positions ({positions.Length}) and sequence indices ({sequenceIndices.Length}) must have the same length");
        }

        for (var t = 0; t < tokens.Length; t++)
        {
            if ((uint)sequenceIndices[t] >= (uint)blockTables.Length)
            {
                throw new ArgumentException($"token {t}: sequence index {sequenceIndices[t]} is outside the {blockTables.Length} block tables", nameof(sequenceIndices));
            }

            if (positions[t] < 0)
            {
                throw new ArgumentException($"token {t}: position {positions[t]} is negative", nameof(positions));
            }
        }

        foreach (var i in logitTokenIndices)
        {
            if ((uint)i >= (uint)tokens.Length)
            {
                throw new ArgumentException($"logit index {i} is outside the {tokens.Length} tokens", nameof(logitTokenIndices));
            }
        }

        _tokens = tokens;
        _positions = positions;
        _sequenceIndices = sequenceIndices;
        BlockTables = blockTables;
        _logitTokenIndices = logitTokenIndices;
    }

    /// <summary>Token ids. // (n_tokens)</summary>
    public ReadOnlySpan<int> Tokens => _tokens;

    /// <summary>Position of each token within its sequence. // (n_tokens)</summary>
    public ReadOnlySpan<int> Positions => _positions;

    /// <summary>Sequence (block table index) of each token. // (n_tokens)</summary>
    public ReadOnlySpan<int> SequenceIndices => _sequenceIndices;

    /// <summary>Physical KV block ids per sequence.</summary>
    public IReadOnlyList<int[]> BlockTables { get; }

    /// <summary>Tokens whose logits are computed, in output row order.</summary>
    public ReadOnlySpan<int> LogitTokenIndices => _logitTokenIndices;

    /// <summary>The block table of token <paramref name="token"/>'s sequence.</summary>
    public int[] BlockTableOf(int token) => BlockTables[_sequenceIndices[token]];

    /// <summary>Number of tokens.</summary>
    public int Count => _tokens.Length;

    /// <summary>
    /// A batch of consecutive tokens of one sequence starting at <paramref name="startPosition"/>, with logits
    /// for the last token only (or for all when <paramref name="allLogits"/>).
    /// </summary>
    public static ForwardBatch ForSequence(ReadOnlySpan<int> tokens, int startPosition, int[] blockTable, bool allLogits = false)
    {
        var n = tokens.Length;
        var positions = new int[n];
        for (var i = 0; i < n; i++)
        {
            positions[i] = startPosition + i;
        }

        var logits = allLogits ? Enumerable.Range(0, n).ToArray() : n == 0 ? [] : [n - 1];
        return new ForwardBatch(tokens.ToArray(), positions, new int[n], [blockTable], logits);
    }
}
