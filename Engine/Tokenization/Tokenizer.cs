using System.Text;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Text ↔ token ids for a model's vocabulary, matching llama.cpp token for token: <c>llama</c> vocabularies use
/// SentencePiece BPE with byte fallback, <c>gpt2</c> vocabularies byte-level BPE after a regex pre-tokenizer.
/// Instances are immutable and safe to use from several threads.
/// </summary>
public abstract class Tokenizer
{
    private readonly byte[][] _pieces;
    private readonly SpecialTokenSplitter _splitter;
    private readonly HashSet<int> _endOfGeneration;

    private protected Tokenizer(TokenizerVocabulary vocabulary, TokenizerDefaults defaults)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var count = vocabulary.Tokens.Count;
        if (count == 0)
        {
            throw new TokenizerException("the vocabulary has no tokens (tokenizer.ggml.tokens is empty)");
        }
        if (vocabulary.Scores is { } scores && scores.Count < count)
        {
            throw new TokenizerException($"tokenizer.ggml.scores has {scores.Count} entries for {count} tokens");
        }
        if (vocabulary.TokenTypes is { } types && types.Count < count)
        {
            throw new TokenizerException($"tokenizer.ggml.token_type has {types.Count} entries for {count} tokens");
        }

        Vocabulary = vocabulary;
        Texts = new string[count];
        Attributes = new TokenAttributes[count];
        Scores = new float[count];
        Ids = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var text = vocabulary.Tokens[i];
            if (string.IsNullOrEmpty(text))
            {
                text = $"[EMPTY_{i}]";
            }
            Texts[i] = text;
            Ids.TryAdd(text, i);
            Scores[i] = vocabulary.Scores?[i] ?? 0f;
            Attributes[i] = vocabulary.TokenTypes is { } t ? FromType(t[i]) : TokenAttributes.Normal;
            if (vocabulary.ExtraAttributes is { } extra && extra.TryGetValue(i, out var more))
            {
                Attributes[i] |= more;
            }
        }
        IdsBySpan = Ids.GetAlternateLookup<ReadOnlySpan<char>>();

        // A negative id (TokenizerVocabulary.NoToken) says "none"; only an absent one takes the model's default.
        BosId = vocabulary.BosId is { } bos ? InRange(bos) : InRange(defaults.Bos);
        EosId = vocabulary.EosId is { } eos ? InRange(eos) : InRange(defaults.Eos);
        UnknownId = InRange(vocabulary.UnknownId) ?? InRange(defaults.Unknown);
        PaddingId = InRange(vocabulary.PaddingId);
        AddBos = vocabulary.AddBos ?? defaults.AddBos;
        AddEos = vocabulary.AddEos ?? defaults.AddEos;
        AddSpacePrefix = vocabulary.AddSpacePrefix ?? defaults.AddSpacePrefix;
        CleanSpaces = vocabulary.CleanSpaces ?? defaults.CleanSpaces;
        if (AddBos && BosId is null)
        {
            throw new TokenizerException("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
        }
        if (AddEos && EosId is null)
        {
            throw new TokenizerException("tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");
        }

        _endOfGeneration = SpecialTokenTexts.Apply(Texts, Attributes, Ids, vocabulary.ControlByText ?? true);
        foreach (var id in new[] { EosId, InRange(vocabulary.EotId), InRange(vocabulary.EomId) }.Concat((vocabulary.EndOfGenerationIds ?? []).Select(i => InRange(i))))
        {
            if (id is { } value)
            {
                _endOfGeneration.Add(value);
            }
        }

        _splitter = new SpecialTokenSplitter(Texts, Attributes);
        _pieces = new byte[count][];
    }

    /// <summary>The vocabulary this tokenizer was built from.</summary>
    public TokenizerVocabulary Vocabulary { get; }

    /// <summary>Number of tokens.</summary>
    public int Count => Texts.Length;

    /// <summary>Beginning-of-sequence token, if the vocabulary has one.</summary>
    public int? BosId { get; }

    /// <summary>End-of-sequence token, if the vocabulary has one.</summary>
    public int? EosId { get; }

    /// <summary>Unknown token, if the vocabulary has one.</summary>
    public int? UnknownId { get; }

    /// <summary>Padding token, if the vocabulary has one.</summary>
    public int? PaddingId { get; }

    /// <summary>Whether <c>Encode</c> with <c>addSpecial</c> prepends BOS.</summary>
    public bool AddBos { get; }

    /// <summary>Whether <c>Encode</c> with <c>addSpecial</c> appends EOS.</summary>
    public bool AddEos { get; }

    /// <summary>Whether a space is put before text that starts the input or follows a special token (SentencePiece).</summary>
    public bool AddSpacePrefix { get; }

    /// <summary>Whether <see cref="Decode"/> removes spaces before punctuation and contractions, as llama.cpp does for this vocabulary.</summary>
    public bool CleanSpaces { get; }

    /// <summary>Tokens that end generation (EOS, end of turn, end of message and llama.cpp's known texts).</summary>
    public IReadOnlySet<int> EndOfGenerationIds => _endOfGeneration;

    private protected string[] Texts { get; }

    private protected TokenAttributes[] Attributes { get; }

    private protected float[] Scores { get; }

    private protected Dictionary<string, int> Ids { get; }

    private protected Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> IdsBySpan { get; }

    /// <summary>Builds the tokenizer <see cref="TokenizerVocabulary.Model"/> names.</summary>
    /// <exception cref="TokenizerException">The model or pre-tokenizer is not supported, or the arrays disagree.</exception>
    public static Tokenizer Create(TokenizerVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return vocabulary.Model switch
        {
            "llama" => new SentencePieceTokenizer(vocabulary),
            "gpt2" or "bpe" => new BpeTokenizer(vocabulary),
            _ => throw new TokenizerException($"unsupported tokenizer model '{vocabulary.Model}' (tokenizer.ggml.model); supported: llama, gpt2"),
        };
    }

    /// <summary>The token's text as stored in the vocabulary.</summary>
    public string GetText(int id) => Texts[CheckId(id)];

    /// <summary>The token's attributes.</summary>
    public TokenAttributes GetAttributes(int id) => Attributes[CheckId(id)];

    /// <summary>Whether the token ends generation.</summary>
    public bool IsEndOfGeneration(int id) => _endOfGeneration.Contains(id);

    /// <summary>The id of a token by its exact vocabulary text, or null.</summary>
    public int? FindToken(string text) => Ids.TryGetValue(text, out var id) ? id : null;

    /// <summary>
    /// Tokenizes <paramref name="text"/> as llama.cpp's <c>llama_tokenize</c> does.
    /// </summary>
    /// <param name="text">The input.</param>
    /// <param name="addSpecial">Add BOS (and EOS) where the vocabulary asks for them.</param>
    /// <param name="parseSpecial">Turn the texts of control tokens (e.g. <c>&lt;|eot_id|&gt;</c>) into their ids.</param>
    public int[] Encode(string text, bool addSpecial = false, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 2);
        Encode(text, output, addSpecial, parseSpecial);
        return [.. output];
    }

    /// <summary>Tokenizes <paramref name="text"/> and appends the ids to <paramref name="output"/>.</summary>
    public void Encode(string text, List<int> output, bool addSpecial = false, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        if (addSpecial && AddBos)
        {
            output.Add(BosId!.Value);
        }

        var afterSpecial = true;
        foreach (var fragment in _splitter.Split(text, parseSpecial))
        {
            if (fragment.IsToken)
            {
                output.Add(fragment.Token);
                afterSpecial = true;
            }
            else
            {
                EncodeText(text.AsSpan(fragment.Start, fragment.Length), afterSpecial, fragment.Start == 0, output);
                afterSpecial = false;
            }
        }

        if (addSpecial && AddEos)
        {
            output.Add(EosId!.Value);
        }
    }

    /// <summary>
    /// The bytes a token stands for (llama.cpp's <c>token_to_piece</c>). Control and unknown tokens give nothing
    /// unless <paramref name="renderSpecial"/>; byte tokens give their single byte, which may be part of a character.
    /// </summary>
    public ReadOnlySpan<byte> GetPiece(int id, bool renderSpecial = false)
    {
        CheckId(id);
        if (!renderSpecial && (Attributes[id] & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0)
        {
            return [];
        }
        return _pieces[id] ??= BuildPiece(id);
    }

    /// <summary>
    /// Turns ids back into text as llama.cpp's <c>llama_detokenize</c> does: the space SentencePiece put before the
    /// first word is dropped, and bytes are decoded as UTF-8 only after all pieces are joined.
    /// </summary>
    /// <param name="ids">The tokens.</param>
    /// <param name="removeSpecial">Drop a leading BOS and a trailing EOS where the vocabulary adds them.</param>
    /// <param name="renderSpecial">Write control tokens as their text instead of dropping them.</param>
    public string Decode(ReadOnlySpan<int> ids, bool removeSpecial = false, bool renderSpecial = false) =>
        Encoding.UTF8.GetString(DecodeToUtf8(ids, removeSpecial, renderSpecial));

    /// <summary>As <see cref="Decode"/>, but returns the UTF-8 bytes (which may end in an incomplete character).</summary>
    public byte[] DecodeToUtf8(ReadOnlySpan<int> ids, bool removeSpecial = false, bool renderSpecial = false)
    {
        var removeSpace = AddSpacePrefix;
        if (removeSpecial && AddBos && ids.Length > 0 && ids[0] == BosId)
        {
            removeSpace = false;
            ids = ids[1..];
        }
        if (removeSpecial && AddEos && ids.Length > 0 && ids[^1] == EosId)
        {
            ids = ids[..^1];
        }

        var bytes = new List<byte>(ids.Length * 4);
        foreach (var id in ids)
        {
            var piece = GetPiece(id, renderSpecial);
            if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ')
            {
                piece = piece[1..];
            }
            removeSpace = false;
            bytes.AddRange(piece);
        }

        return CleanSpaces ? SpaceCleaner.Clean(bytes) : [.. bytes];
    }

    /// <summary>A decoder for streaming output that emits only whole characters.</summary>
    /// <param name="renderSpecial">Write control tokens as their text.</param>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool renderSpecial = false) => new(this, renderSpecial);

    /// <summary>
    /// Tokenizes one fragment of raw text (no special tokens inside); <paramref name="afterSpecial"/>: it starts the input
    /// or follows a special token; <paramref name="atStart"/>: it starts the input.
    /// </summary>
    private protected abstract void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, bool atStart, List<int> output);

    /// <summary>The piece of a normal token (the model-specific part of <see cref="GetPiece"/>).</summary>
    private protected abstract byte[] NormalPiece(int id);

    private byte[] BuildPiece(int id)
    {
        var attributes = Attributes[id];
        if ((attributes & (TokenAttributes.Control | TokenAttributes.Unknown | TokenAttributes.UserDefined)) != 0)
        {
            return Encoding.UTF8.GetBytes(Texts[id]);
        }
        if ((attributes & TokenAttributes.Normal) != 0)
        {
            return NormalPiece(id);
        }
        if ((attributes & TokenAttributes.Byte) != 0)
        {
            return ByteTokens.TryParse(Texts[id], out var b) ? [b] : [];
        }
        return [];
    }

    private int? InRange(int? id) => id is { } v && v >= 0 && v < Texts.Length ? v : null;

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)Texts.Length)
        {
            throw new TokenizerException($"token id {id} is outside the vocabulary of {Texts.Length} tokens");
        }
        return id;
    }

    private static TokenAttributes FromType(int type) => (TokenType)type switch
    {
        TokenType.Normal => TokenAttributes.Normal,
        TokenType.Unknown => TokenAttributes.Unknown,
        TokenType.Control => TokenAttributes.Control,
        TokenType.UserDefined => TokenAttributes.UserDefined,
        TokenType.Unused => TokenAttributes.Unused,
        TokenType.Byte => TokenAttributes.Byte,
        _ => TokenAttributes.None,
    };
}

/// <summary>llama.cpp's per-model defaults for what a GGUF file may leave out.</summary>
internal readonly record struct TokenizerDefaults(
    int? Bos, int? Eos, int? Unknown, bool AddBos, bool AddEos, bool AddSpacePrefix, bool CleanSpaces);
