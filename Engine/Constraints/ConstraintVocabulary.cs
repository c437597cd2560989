using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Constraints;

/// <summary>
/// A model's tokens as bytes, arranged for mask computation: a trie in depth-first order (tokens sorted by bytes, so
/// tokens that share a prefix share the walk over it). Built once per model and cached; immutable and thread-safe.
/// </summary>
public sealed class ConstraintVocabulary
{
    private readonly int[] _endTokens;
    private readonly byte[]?[] _bytes;

    private ConstraintVocabulary(byte[]?[] bytes, int[] endTokens, TokenTrie trie)
    {
        _bytes = bytes;
        _endTokens = endTokens;
        Trie = trie;
        Words = (bytes.Length + 63) >> 6;
        IsEnd = new bool[bytes.Length];
        foreach (int id in endTokens)
        {
            IsEnd[id] = true;
        }
    }

    /// <summary>The number of token ids (the mask has one bit per id).</summary>
    public int Size => _bytes.Length;

    /// <summary>The number of 64-bit words a mask over this vocabulary needs.</summary>
    public int Words { get; }

    internal TokenTrie Trie { get; }

    internal bool[] IsEnd { get; }

    internal ReadOnlySpan<int> EndTokens => _endTokens;

    /// <summary>
    /// Builds the vocabulary. <paramref name="tokenBytes"/>[id] is the bytes token id decodes to, or null for a token the
    /// grammar never allows (control tokens); tokens that decode to no bytes are never allowed either.
    /// <paramref name="endTokenIds"/> end the output: they are allowed exactly where the grammar may end.
    /// </summary>
    public static ConstraintVocabulary Create(IReadOnlyList<byte[]?> tokenBytes, IReadOnlyCollection<int> endTokenIds)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        ArgumentNullException.ThrowIfNull(endTokenIds);
        var bytes = new byte[]?[tokenBytes.Count];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = tokenBytes[i];
        }

        var ends = endTokenIds.Distinct().Order().ToArray();
        foreach (int id in ends)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(id, nameof(endTokenIds));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, bytes.Length, nameof(endTokenIds));
        }

        var endSet = new HashSet<int>(ends);
        var candidates = new List<int>(bytes.Length);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] is { Length: > 0 } && !endSet.Contains(i))
            {
                candidates.Add(i);
            }
        }

        return new ConstraintVocabulary(bytes, ends, TokenTrie.Build(bytes, candidates, (bytes.Length + 63) >> 6));
    }

    /// <summary>
    /// The vocabulary of <paramref name="tokenizer"/>: each token's piece bytes (control and unknown tokens never allowed),
    /// with its end-of-generation tokens as the end tokens.
    /// </summary>
    public static ConstraintVocabulary FromTokenizer(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var bytes = new byte[]?[tokenizer.Count];
        for (int id = 0; id < bytes.Length; id++)
        {
            var piece = tokenizer.GetPiece(id);
            bytes[id] = piece.IsEmpty ? null : piece.ToArray();
        }

        return Create(bytes, [.. tokenizer.EndOfGenerationIds]);
    }

    internal ReadOnlySpan<byte> BytesOf(int tokenId) => _bytes[tokenId];

    internal bool IsWalkable(int tokenId) => _bytes[tokenId] is { Length: > 0 } && !IsEnd[tokenId];
}
