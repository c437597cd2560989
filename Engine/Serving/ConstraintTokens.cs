using Fathom.Engine.Constraints;
using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Serving;

/// <summary>
/// A served model's tokens as constrained decoding sees them, built on first use and shared by every request: the
/// <see cref="ConstraintVocabulary"/> (each token's bytes as the detokenizer writes them; control tokens never
/// allowed, the end-of-generation ids allowed where a grammar may end) and the reasoning end markers' tables.
/// </summary>
public sealed class ConstraintTokens
{
    private readonly Lazy<ConstraintVocabulary> _vocabulary;
    private readonly Lazy<byte[]?[]> _bytes;
    private readonly Dictionary<string, ReasoningMarkerTable> _markers = new(StringComparer.Ordinal);

    /// <summary>The tokens of <paramref name="tokenizer"/>.</summary>
    public ConstraintTokens(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _bytes = new(() => TokenBytes(tokenizer));
        _vocabulary = new(() => ConstraintVocabulary.Create(_bytes.Value, [.. tokenizer.EndOfGenerationIds.Where(id => id < tokenizer.Count)]));
        EndOfGenerationIds = tokenizer.EndOfGenerationIds;
    }

    /// <summary>The vocabulary grammars are matched over (built on first use; thread-safe).</summary>
    public ConstraintVocabulary Vocabulary => _vocabulary.Value;

    /// <summary>The model's end-of-generation ids.</summary>
    internal IReadOnlySet<int> EndOfGenerationIds { get; }

    /// <summary>Which tokens cross <paramref name="marker"/> (built on first use per marker; thread-safe).</summary>
    internal ReasoningMarkerTable MarkerTable(string marker)
    {
        lock (_markers)
        {
            if (!_markers.TryGetValue(marker, out var table))
            {
                _markers[marker] = table = new ReasoningMarkerTable(marker, _bytes.Value);
            }

            return table;
        }
    }

    private static byte[]?[] TokenBytes(Tokenizer tokenizer)
    {
        var bytes = new byte[]?[tokenizer.Count];
        for (int id = 0; id < bytes.Length; id++)
        {
            // Control and unknown tokens write no text, so no grammar can account for them: never allowed.
            bool silent = (tokenizer.GetAttributes(id) & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0;
            bytes[id] = silent ? null : tokenizer.GetPiece(id).ToArray();
        }

        return bytes;
    }
}
