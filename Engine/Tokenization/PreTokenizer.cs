using System.Globalization;
using System.Text.RegularExpressions;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Splits text into the words a byte-level BPE encodes one at a time, with the regular expressions llama.cpp
/// uses for each <c>tokenizer.ggml.pre</c>. Like llama.cpp, several expressions apply in turn, each to the
/// pieces the previous one left, and the text between matches is kept as a piece of its own.
/// </summary>
/// <remarks>
/// .NET regular expressions see UTF-16 code units, so a character outside the BMP would be two surrogates to
/// them. Matching therefore runs on a copy with one char per code point, where each astral code point is
/// replaced by a BMP stand-in of the same Unicode category; offsets are mapped back afterwards.
/// </remarks>
internal sealed class PreTokenizer
{
    private const RegexOptions Options = RegexOptions.Compiled | RegexOptions.CultureInvariant;

    private const string Llama3 =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

    private const string Qwen2 =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string CjkAndHangul = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";

    // DeepSeek-LLM's letter class: letters of many scripts, excluding CJK (handled by its own expression).
    private const string DeepSeekLetters =
        @"\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373" +
        @"\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F" +
        @"\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77" +
        @"\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D" +
        @"\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4" +
        @"\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139" +
        @"\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D" +
        @"\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A" +
        @"\uFF41-\uFF5A]+";

    // The astral ranges of DeepSeek-LLM's letter class; code points there stand in as 'A'.
    private static readonly (int First, int Last)[] DeepSeekAstralLetters =
    [
        (0x10400, 0x1044F), (0x104B0, 0x104D3), (0x104D8, 0x104FB), (0x10C80, 0x10CB2), (0x10CC0, 0x10CF2),
        (0x118A0, 0x118DF), (0x1E900, 0x1E943),
    ];

    private static readonly Lazy<Regex[]> Llama3Set = new(() => Compile(Llama3));
    private static readonly Lazy<Regex[]> Gpt2Set = new(() => Compile(Gpt2));
    private static readonly Lazy<Regex[]> Qwen2Set = new(() => Compile(Qwen2));
    private static readonly Lazy<Regex[]> DeepSeekCoderSet =
        new(() => Compile(@"[\r\n]", @"\s?\p{L}+", @"\s?\p{P}+", CjkAndHangul, @"\p{N}"));
    private static readonly Lazy<Regex[]> DeepSeekLlmSet = new(() => Compile(
        @"[\r\n]", DeepSeekLetters, "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+", @"\s+\z",
        CjkAndHangul, @"\p{N}+"));
    private static readonly Lazy<Regex[]> DefaultSet = new(() => Compile(
        @"[\p{P}\$\+<=>\^~\|]+", Gpt2, @"\p{N}+", "[0-9][0-9][0-9]"));

    private readonly Regex[] _expressions;
    private readonly bool _deepSeekAstral;

    private PreTokenizer(Regex[] expressions, bool deepSeekAstral)
    {
        _expressions = expressions;
        _deepSeekAstral = deepSeekAstral;
    }

    /// <summary>How llama.cpp treats this pre-tokenizer beyond its expressions.</summary>
    public PreTokenizerFlavor Flavor { get; private init; }

    /// <summary>Whether splitting uses <see cref="Llama3Splitter"/> instead of the (equivalent, slower) expression.</summary>
    public bool UseHandWritten { get; init; }

    /// <summary>The same pre-tokenizer matching with its regular expressions only (tests compare the two).</summary>
    public PreTokenizer WithExpressionsOnly() => new(_expressions, _deepSeekAstral) { Flavor = Flavor };

    /// <summary>The pre-tokenizer named by <c>tokenizer.ggml.pre</c>, or a <see cref="TokenizerException"/>.</summary>
    public static PreTokenizer ForName(string? name) => name switch
    {
        null or "" or "default" => new PreTokenizer(DefaultSet.Value, false) { Flavor = PreTokenizerFlavor.Default },
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "pixtral" =>
            new PreTokenizer(Llama3Set.Value, false) { Flavor = PreTokenizerFlavor.Llama3, UseHandWritten = true },
        "deepseek-llm" => new PreTokenizer(DeepSeekLlmSet.Value, true) { Flavor = PreTokenizerFlavor.NoCleanSpaces },
        "deepseek-coder" => new PreTokenizer(DeepSeekCoderSet.Value, false) { Flavor = PreTokenizerFlavor.NoCleanSpaces },
        "gpt-2" or "phi-2" or "mpt" or "olmo" or "jina-es" or "jina-de" or "jina-v2-es" or "jina-v2-de" =>
            new PreTokenizer(Gpt2Set.Value, false) { Flavor = PreTokenizerFlavor.Default },
        "qwen2" or "deepseek-r1-qwen" =>
            new PreTokenizer(Qwen2Set.Value, false) { Flavor = PreTokenizerFlavor.NoCleanSpaces },
        _ => throw new TokenizerException($"unsupported pre-tokenizer '{name}' (tokenizer.ggml.pre); supported: default, llama-bpe, deepseek-llm, deepseek-coder, gpt-2, qwen2"),
    };

    /// <summary>
    /// A pre-tokenizer from Hugging Face <c>Split</c> expressions (behavior <c>Isolated</c>) applied in turn.
    /// </summary>
    /// <exception cref="TokenizerException">An expression is not a valid .NET regular expression.</exception>
    public static PreTokenizer FromExpressions(IReadOnlyList<string> patterns, PreTokenizerFlavor flavor)
    {
        try
        {
            return new PreTokenizer(Compile([.. patterns]), false) { Flavor = flavor };
        }
        catch (ArgumentException e)
        {
            throw new TokenizerException($"pre_tokenizer: Split pattern cannot be compiled: {e.Message}", e);
        }
    }

    /// <summary>Appends the words of <paramref name="text"/> as (start, length) ranges of UTF-16 indices.</summary>
    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> words)
    {
        if (text.IsEmpty)
        {
            return;
        }

        if (!text.ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            SplitMapped(text, words);
            return;
        }

        // One char per code point, astral code points replaced by stand-ins; offsets[i] = UTF-16 index of code point i.
        var mapped = new char[text.Length];
        var offsets = new int[text.Length + 1];
        var n = 0;
        for (var i = 0; i < text.Length; n++)
        {
            offsets[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                mapped[n] = StandIn(char.ConvertToUtf32(text[i], text[i + 1]));
                i += 2;
            }
            else
            {
                mapped[n] = text[i];
                i++;
            }
        }
        offsets[n] = text.Length;

        var first = words.Count;
        SplitMapped(mapped.AsSpan(0, n), words);
        for (var w = first; w < words.Count; w++)
        {
            var (start, length) = words[w];
            words[w] = (offsets[start], offsets[start + length] - offsets[start]);
        }
    }

    private void SplitMapped(ReadOnlySpan<char> text, List<(int Start, int Length)> words)
    {
        if (UseHandWritten)
        {
            Llama3Splitter.Split(text, words);
            return;
        }

        var first = words.Count;
        words.Add((0, text.Length));
        List<(int Start, int Length)>? scratch = null;
        foreach (var expression in _expressions)
        {
            scratch ??= [];
            scratch.Clear();
            for (var w = first; w < words.Count; w++)
            {
                var (start, length) = words[w];
                var end = 0;
                foreach (var match in expression.EnumerateMatches(text.Slice(start, length)))
                {
                    if (match.Length == 0)
                    {
                        continue;
                    }
                    if (match.Index > end)
                    {
                        scratch.Add((start + end, match.Index - end));
                    }
                    scratch.Add((start + match.Index, match.Length));
                    end = match.Index + match.Length;
                }
                if (end < length)
                {
                    scratch.Add((start + end, length - end));
                }
            }
            words.RemoveRange(first, words.Count - first);
            words.AddRange(scratch);
        }
    }

    private char StandIn(int codePoint)
    {
        if (_deepSeekAstral)
        {
            foreach (var (lo, hi) in DeepSeekAstralLetters)
            {
                if (codePoint >= lo && codePoint <= hi)
                {
                    return 'A';
                }
            }
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => '\u01BB',
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => '\u0660',
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => '\u0300',
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => '\u00A1',
            _ => '\u00A6',
        };
    }

    private static Regex[] Compile(params string[] patterns) =>
        patterns.Select(p => new Regex(p, Options, Regex.InfiniteMatchTimeout)).ToArray();
}

/// <summary>The load-time flags llama.cpp attaches to a pre-tokenizer type.</summary>
internal enum PreTokenizerFlavor
{
    /// <summary>Merges always apply; decoding cleans spaces before punctuation.</summary>
    Default,

    /// <summary>Llama 3: a word that is itself a token skips merging; BOS is added by default.</summary>
    Llama3,

    /// <summary>Decoding leaves spaces as they are.</summary>
    NoCleanSpaces,
}
