using System.Collections.Concurrent;
using System.Text;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Byte-pair encoding with ranked merges. A <c>gpt2</c> vocabulary (Llama 3, Qwen, DeepSeek, GPT-2) is byte-level: a
/// regex pre-tokenizer splits the text into words and each word's UTF-8 bytes are written as byte characters. A
/// <c>bpe</c> vocabulary (Hugging Face's SentencePiece-style BPE: Llama 2, Mistral) is character-level: spaces become
/// <c>▁</c> (Metaspace or Replace/Prepend normalizers), each character is a symbol, and a character that is no token
/// falls back to <c>&lt;0xNN&gt;</c> byte tokens or the unknown token. Either way adjacent pieces are merged lowest
/// rank first (ties: leftmost). Ranks come from the merges, or — for a tiktoken vocabulary without merges — from the
/// token id of the merged piece. Results are cached per word.
/// </summary>
internal sealed partial class BpeTokenizer : Tokenizer
{
    private const int MaxCachedWordLength = 64;
    private const int MaxCacheEntries = 1 << 18;
    private const int MaxScanLength = 48;

    private readonly bool _byteLevel;
    private readonly PreTokenizer? _preTokenizer;        // byte-level only
    private readonly MetaspaceSettings? _metaspace;      // character-level only
    private readonly bool _ignoreMerges;
    private readonly TextNormalizer? _normalizer;
    private readonly bool _prefixSpace;
    private readonly int[]? _byteTokens;                 // character-level byte fallback: <0xNN> ids, null when off
    private readonly bool _fuseUnknown;
    private readonly char _spaceMarker;
    private readonly Dictionary<long, Merge>? _merges;   // (left piece, right piece) → merge; null: merge by token id
    private readonly List<string> _pieceTexts;           // token texts, then pieces that occur in merges but not as tokens
    private readonly int[] _bytePieces = new int[256];
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;

    public BpeTokenizer(TokenizerVocabulary vocabulary)
        : base(vocabulary, Defaults(vocabulary))
    {
        _byteLevel = vocabulary.Model != "bpe";
        if (_byteLevel)
        {
            _preTokenizer = CreatePreTokenizer(vocabulary);
            _ignoreMerges = vocabulary.IgnoreMerges ?? _preTokenizer.Flavor == PreTokenizerFlavor.Llama3;
        }
        else
        {
            _metaspace = vocabulary.Metaspace;
            _ignoreMerges = vocabulary.IgnoreMerges ?? false;
            if (vocabulary.ByteFallback == true)
            {
                _byteTokens = ByteTokens.Find(IdsBySpan, literalAscii: false);
            }
            _fuseUnknown = vocabulary.FuseUnknown ?? false;
        }
        _spaceMarker = vocabulary.SpaceMarker ?? '\u2581';
        _normalizer = vocabulary.Normalizer;
        _prefixSpace = vocabulary.PrefixSpace ?? false;
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _pieceTexts = new List<string>(Texts);
        var extra = new Dictionary<string, int>(StringComparer.Ordinal);

        if (_byteLevel)
        {
            for (var b = 0; b < 256; b++)
            {
                _bytePieces[b] = PieceId([ByteLevelEncoding.ToChar((byte)b)], extra);
            }
        }

        if (vocabulary.Merges is { } merges)
        {
            _merges = new Dictionary<long, Merge>(merges.Count, PairComparer.Instance);
            Span<char> joined = stackalloc char[512];
            for (var rank = 0; rank < merges.Count; rank++)
            {
                var line = merges[rank].AsSpan();
                // llama.cpp splits at the first space after the first character; a line without one pairs "" with "".
                var space = line.Length > 1 ? line[1..].IndexOf(' ') + 1 : 0;
                var first = space > 0 ? line[..space] : [];
                var second = space > 0 ? line[(space + 1)..] : [];
                var key = Key(PieceId(first, extra), PieceId(second, extra));
                if (_merges.ContainsKey(key))
                {
                    continue;
                }
                var both = first.Length + second.Length <= joined.Length ? joined[..(first.Length + second.Length)] : new char[first.Length + second.Length];
                first.CopyTo(both);
                second.CopyTo(both[first.Length..]);
                _merges[key] = new Merge(rank, PieceId(both, extra));
            }
        }
    }

    private protected override void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, bool atStart, List<int> output)
    {
        if (_normalizer is { } normalizer)
        {
            text = normalizer.Apply(text.ToString());
        }
        if (text.IsEmpty)
        {
            return;
        }

        var words = new List<(int Start, int Length)>();
        if (_byteLevel)
        {
            // ByteLevel's add_prefix_space: before each piece it sees, i.e. the whole text when it splits by itself,
            // else each word of the Split steps before it.
            if (_prefixSpace && Vocabulary.PreTokenizerPatterns is null && text[0] != ' ')
            {
                text = " " + text.ToString();
            }
            _preTokenizer!.Split(text, words);
        }
        else
        {
            if (_metaspace is { } metaspace)
            {
                text = metaspace.Apply(text, atStart, words);
            }
            else
            {
                // Llama 2's legacy files: the normalizer already wrote spaces as ▁ and the model sees the whole text.
                words.Add((0, text.Length));
            }
        }

        foreach (var (start, length) in words)
        {
            var word = text.Slice(start, length);
            if (_prefixSpace && _byteLevel && Vocabulary.PreTokenizerPatterns is not null && word[0] != ' ')
            {
                word = " " + word.ToString();
            }
            if (_cacheBySpan.TryGetValue(word, out var cached))
            {
                output.AddRange(cached);
                continue;
            }

            var first = output.Count;
            EncodeWord(word, output);
            if (word.Length <= MaxCachedWordLength)
            {
                if (_cache.Count >= MaxCacheEntries)
                {
                    _cache.Clear();
                }
                _cache.TryAdd(word.ToString(), output.GetRange(first, output.Count - first).ToArray());
            }
        }
    }

    private protected override byte[] NormalPiece(int id)
    {
        var text = Texts[id];
        if (!_byteLevel)
        {
            return Encoding.UTF8.GetBytes(text.Replace(_spaceMarker, ' '));
        }
        var bytes = new List<byte>(text.Length);
        foreach (var c in text)
        {
            if (ByteLevelEncoding.TryToByte(c, out var b))
            {
                bytes.Add(b);
            }
            else
            {
                // llama.cpp writes characters outside the byte map like this.
                bytes.AddRange(Encoding.UTF8.GetBytes($"[UNK_BYTE_0x{Convert.ToHexStringLower(Encoding.UTF8.GetBytes(c.ToString()))}{text}]"));
            }
        }
        return [.. bytes];
    }

    private void EncodeWord(ReadOnlySpan<char> word, List<int> output)
    {
        if (!_byteLevel)
        {
            EncodeCharacters(word, output);
            return;
        }

        var byteCount = Encoding.UTF8.GetByteCount(word);
        var bytes = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(word, bytes);
        var encoded = byteCount <= 256 ? stackalloc char[byteCount] : new char[byteCount];
        ByteLevelEncoding.Encode(bytes, encoded);

        if (_ignoreMerges && IdsBySpan.TryGetValue(encoded, out var whole))
        {
            output.Add(whole);
            return;
        }

        var pieces = byteCount <= 256 ? stackalloc int[byteCount] : new int[byteCount];
        for (var i = 0; i < byteCount; i++)
        {
            pieces[i] = _bytePieces[bytes[i]];
        }
        MergePieces(pieces, output);
    }

    /// <summary>
    /// A character-level word: each character is a symbol if it is a token; otherwise its UTF-8 bytes' <c>&lt;0xNN&gt;</c>
    /// tokens (byte fallback), else the unknown token (consecutive ones fused when asked), else nothing — as Hugging Face's BPE.
    /// </summary>
    private void EncodeCharacters(ReadOnlySpan<char> word, List<int> output)
    {
        if (_ignoreMerges && IdsBySpan.TryGetValue(word, out var whole))
        {
            output.Add(whole);
            return;
        }

        var pieces = new List<int>(word.Length);
        Span<byte> utf8 = stackalloc byte[4];
        var lastUnknown = false;
        for (var i = 0; i < word.Length;)
        {
            var length = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var character = word.Slice(i, length);
            i += length;
            if (IdsBySpan.TryGetValue(character, out var id))
            {
                pieces.Add(id);
                lastUnknown = false;
            }
            else if (_byteTokens is { } byteTokens && SpellsInBytes(character, byteTokens, utf8, out var count))
            {
                for (var b = 0; b < count; b++)
                {
                    pieces.Add(byteTokens[utf8[b]]);
                }
                lastUnknown = false;
            }
            else if (UnknownId is { } unknown)
            {
                if (!(lastUnknown && _fuseUnknown))
                {
                    pieces.Add(unknown);
                }
                lastUnknown = true;
            }
        }
        MergePieces(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pieces), output);
    }

    // Hugging Face falls back to bytes for a character only when all of its bytes have tokens.
    private static bool SpellsInBytes(ReadOnlySpan<char> character, int[] byteTokens, Span<byte> utf8, out int count)
    {
        count = Encoding.UTF8.GetBytes(character, utf8);
        for (var b = 0; b < count; b++)
        {
            if (byteTokens[utf8[b]] < 0)
            {
                return false;
            }
        }
        return true;
    }

    private int PieceId(ReadOnlySpan<char> text, Dictionary<string, int> extra)
    {
        if (IdsBySpan.TryGetValue(text, out var id))
        {
            return id;
        }
        var extraBySpan = extra.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!extraBySpan.TryGetValue(text, out id))
        {
            id = _pieceTexts.Count;
            var s = text.ToString();
            _pieceTexts.Add(s);
            extra[s] = id;
        }
        return id;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    // Hugging Face Split expressions, when present, keep the flavor (BOS default, space clean-up) of the named pre-tokenizer.
    private static PreTokenizer CreatePreTokenizer(TokenizerVocabulary vocabulary)
    {
        var named = PreTokenizer.ForName(vocabulary.Pre);
        return vocabulary.PreTokenizerPatterns is { } patterns ? PreTokenizer.FromExpressions(patterns, named.Flavor) : named;
    }

    private static TokenizerDefaults Defaults(TokenizerVocabulary vocabulary)
    {
        if (vocabulary.Model == "bpe")
        {
            // Hugging Face names BOS/EOS and whether to add them in the files; nothing is assumed.
            return new TokenizerDefaults(Bos: null, Eos: null, Unknown: null, AddBos: false, AddEos: false, AddSpacePrefix: false, CleanSpaces: false);
        }
        var flavor = PreTokenizer.ForName(vocabulary.Pre).Flavor;
        return new TokenizerDefaults(
            Bos: 11, Eos: 11, Unknown: null,
            AddBos: flavor == PreTokenizerFlavor.Llama3, AddEos: false, AddSpacePrefix: false,
            CleanSpaces: flavor != PreTokenizerFlavor.NoCleanSpaces);
    }
}
