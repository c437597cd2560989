namespace Fathom.Engine.Constraints;

/// <summary>
/// Where one sequence stands in a <see cref="Grammar"/>: which tokens may come next, and the tokens it accepts.
/// One per sequence; not thread-safe (the grammar and vocabulary it reads are).
/// </summary>
public sealed class GrammarMatcher
{
    private readonly TokenTables _tables;
    private int _config;
    private bool _ended;

    /// <summary>Starts matching <paramref name="grammar"/> over <paramref name="vocabulary"/>'s tokens.</summary>
    public GrammarMatcher(Grammar grammar, ConstraintVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        ArgumentNullException.ThrowIfNull(vocabulary);
        _tables = grammar.TablesFor(vocabulary);
        _config = _tables.InitialConfig;
        if (_config < 0)
        {
            throw new ArgumentException("The grammar matches no output at all.", nameof(grammar));
        }
    }

    private GrammarMatcher(GrammarMatcher other)
    {
        _tables = other._tables;
        _config = other._config;
        _ended = other._ended;
    }

    internal TokenTables Tables => _tables;

    internal int Configuration => _config;

    /// <summary>The vocabulary's size: the number of bits <see cref="FillNextTokenMask"/> writes.</summary>
    public int VocabularySize => _tables.Vocabulary.Size;

    /// <summary>The bytes so far form a complete sentence of the grammar (an end token may come next).</summary>
    public bool CanEnd => !_ended && _tables.CanEnd(_config);

    /// <summary>An end token was accepted, or nothing more may follow the bytes so far.</summary>
    public bool IsComplete => _ended || _tables.IsFinal(_config);

    /// <summary>
    /// Writes the tokens allowed next: bit (id &amp; 63) of word id &gt;&gt; 6 is set when token id is allowed.
    /// <paramref name="allowed"/> must hold at least ceil(<see cref="VocabularySize"/> / 64) words; all of them are written.
    /// End tokens are allowed where the grammar may end (and only end tokens once it has ended, so a sampler never sees an empty mask).
    /// </summary>
    public void FillNextTokenMask(Span<ulong> allowed)
    {
        var vocabulary = _tables.Vocabulary;
        if (allowed.Length < vocabulary.Words)
        {
            throw new ArgumentException($"The mask needs {vocabulary.Words} words for {vocabulary.Size} tokens.", nameof(allowed));
        }

        if (_ended)
        {
            allowed.Clear();
        }
        else
        {
            _tables.MaskOf(_config).CopyTo(allowed);
            allowed[vocabulary.Words..].Clear();
            if (!_tables.CanEnd(_config))
            {
                return;
            }
        }

        foreach (int id in vocabulary.EndTokens)
        {
            allowed[id >> 6] |= 1UL << (id & 63);
        }
    }

    /// <summary>Takes token <paramref name="tokenId"/>; false (state unchanged) if the grammar does not allow it here.</summary>
    public bool Accept(int tokenId)
    {
        var vocabulary = _tables.Vocabulary;
        if ((uint)tokenId >= (uint)vocabulary.Size)
        {
            return false;
        }

        if (vocabulary.IsEnd[tokenId])
        {
            if (_ended || _tables.CanEnd(_config))
            {
                _ended = true;
                return true;
            }

            return false;
        }

        if (_ended || !vocabulary.IsWalkable(tokenId))
        {
            return false;
        }

        return AcceptBytes(vocabulary.BytesOf(tokenId));
    }

    /// <summary>Takes raw output bytes (e.g. text the server forces); false (state unchanged) if the grammar does not allow them here.</summary>
    public bool AcceptBytes(ReadOnlySpan<byte> bytes)
    {
        if (_ended)
        {
            return bytes.IsEmpty;
        }

        int next = _tables.Walk(_config, bytes);
        if (next < 0)
        {
            return false;
        }

        _config = next;
        return true;
    }

    /// <summary>Whether token <paramref name="tokenId"/> is allowed next, without taking it.</summary>
    public bool IsAllowed(int tokenId)
    {
        var vocabulary = _tables.Vocabulary;
        if ((uint)tokenId >= (uint)vocabulary.Size)
        {
            return false;
        }

        if (vocabulary.IsEnd[tokenId])
        {
            return _ended || _tables.CanEnd(_config);
        }

        return !_ended && vocabulary.IsWalkable(tokenId) && _tables.Walk(_config, vocabulary.BytesOf(tokenId)) >= 0;
    }

    /// <summary>A matcher at the same place that goes on independently (e.g. for speculative decoding or parallel choices).</summary>
    public GrammarMatcher Clone() => new(this);
}
