using System.Buffers;

namespace Fathom.Engine.Tokenization;

/// <summary>One piece of input after special tokens are cut out: either a token id or a range of raw text.</summary>
internal readonly record struct TextFragment(int Token, int Start, int Length)
{
    public bool IsToken => Token >= 0;

    public static TextFragment ForToken(int token) => new(token, 0, 0);

    public static TextFragment ForText(int start, int length) => new(-1, start, length);
}

/// <summary>
/// Cuts the texts of special tokens out of raw input before the model's tokenizer sees it, as llama.cpp's
/// <c>tokenizer_st_partition</c> does: tokens are tried longest text first, each splitting every remaining text
/// fragment at all of its occurrences. Control and unknown tokens are cut only when special-token parsing is on;
/// user-defined tokens always are. Hugging Face added-token flags are honoured: <c>single_word</c> tokens are cut only
/// where no word character touches them, and <c>lstrip</c>/<c>rstrip</c> tokens take the whitespace beside them.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly int[] _order;           // candidate ids, longest text first
    private readonly string[] _texts;
    private readonly bool[] _onlyWhenParsing; // control/unknown: only with parseSpecial
    private readonly SearchValues<char> _firstChars;
    private readonly Dictionary<char, int[]> _byFirstChar;
    private readonly bool _anyAlwaysOn;
    private readonly TokenAttributes[] _attributes;
    private readonly bool _anyStrip;

    public SpecialTokenSplitter(string[] texts, TokenAttributes[] attributes)
    {
        _texts = texts;
        _attributes = attributes;
        _onlyWhenParsing = new bool[texts.Length];
        var ids = new List<int>();
        for (var id = 0; id < texts.Length; id++)
        {
            var a = attributes[id];
            if ((a & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) == 0 || texts[id].Length == 0)
            {
                continue;
            }
            ids.Add(id);
            _onlyWhenParsing[id] = (a & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0;
            _anyAlwaysOn |= !_onlyWhenParsing[id];
            _anyStrip |= (a & (TokenAttributes.StripLeft | TokenAttributes.StripRight)) != 0;
        }

        // llama.cpp sorts by UTF-8 length, descending; ties keep id order here.
        _order = [.. ids.OrderByDescending(id => System.Text.Encoding.UTF8.GetByteCount(texts[id])).ThenBy(id => id)];
        _byFirstChar = _order.GroupBy(id => texts[id][0]).ToDictionary(g => g.Key, g => g.ToArray());
        _firstChars = SearchValues.Create([.. _byFirstChar.Keys]);
    }

    /// <summary>Splits <paramref name="text"/> into fragments.</summary>
    public List<TextFragment> Split(string text, bool parseSpecial)
    {
        var fragments = new List<TextFragment>();
        if (text.Length == 0)
        {
            return fragments;
        }
        fragments.Add(TextFragment.ForText(0, text.Length));
        if (_order.Length == 0 || (!parseSpecial && !_anyAlwaysOn))
        {
            return fragments;
        }

        var present = FindPresent(text, parseSpecial);
        if (present.Count == 0)
        {
            return fragments;
        }

        foreach (var id in _order)
        {
            if (!present.Contains(id))
            {
                continue;
            }
            var special = _texts[id];
            var next = new List<TextFragment>(fragments.Count + 2);
            foreach (var fragment in fragments)
            {
                if (fragment.IsToken)
                {
                    next.Add(fragment);
                    continue;
                }
                var start = fragment.Start;
                var from = start;
                var end = fragment.Start + fragment.Length;
                while (from < end)
                {
                    var found = text.AsSpan(from, end - from).IndexOf(special, StringComparison.Ordinal);
                    if (found < 0)
                    {
                        break;
                    }
                    var at = from + found;
                    if ((_attributes[id] & TokenAttributes.SingleWord) != 0 && InsideWord(text, at, special.Length))
                    {
                        from = at + 1;
                        continue;
                    }
                    if (at > start)
                    {
                        next.Add(TextFragment.ForText(start, at - start));
                    }
                    next.Add(TextFragment.ForToken(id));
                    start = at + special.Length;
                    from = start;
                }
                if (start < end)
                {
                    next.Add(TextFragment.ForText(start, end - start));
                }
            }
            fragments = next;
        }
        return _anyStrip ? Strip(text, fragments) : fragments;
    }

    // lstrip: the whitespace before the token belongs to it; rstrip: the whitespace after it.
    private List<TextFragment> Strip(string text, List<TextFragment> fragments)
    {
        for (var i = 0; i < fragments.Count; i++)
        {
            if (!fragments[i].IsToken)
            {
                continue;
            }
            var attributes = _attributes[fragments[i].Token];
            if ((attributes & TokenAttributes.StripLeft) != 0 && i > 0 && !fragments[i - 1].IsToken)
            {
                var (start, length) = (fragments[i - 1].Start, fragments[i - 1].Length);
                while (length > 0 && char.IsWhiteSpace(text[start + length - 1]))
                {
                    length--;
                }
                fragments[i - 1] = TextFragment.ForText(start, length);
            }
            if ((attributes & TokenAttributes.StripRight) != 0 && i + 1 < fragments.Count && !fragments[i + 1].IsToken)
            {
                var (start, length) = (fragments[i + 1].Start, fragments[i + 1].Length);
                while (length > 0 && char.IsWhiteSpace(text[start]))
                {
                    start++;
                    length--;
                }
                fragments[i + 1] = TextFragment.ForText(start, length);
            }
        }
        fragments.RemoveAll(f => !f.IsToken && f.Length == 0);
        return fragments;
    }

    // Hugging Face's single_word test: a word character (letter, digit or underscore) right before or after the match.
    private static bool InsideWord(string text, int start, int length) =>
        (start > 0 && IsWordCharacter(text[start - 1])) || (start + length < text.Length && IsWordCharacter(text[start + length]));

    private static bool IsWordCharacter(char c) => char.IsLetterOrDigit(c) || c == '_';

    private HashSet<int> FindPresent(string text, bool parseSpecial)
    {
        var present = new HashSet<int>();
        var span = text.AsSpan();
        var offset = 0;
        while (true)
        {
            var i = span[offset..].IndexOfAny(_firstChars);
            if (i < 0)
            {
                break;
            }
            var at = offset + i;
            foreach (var id in _byFirstChar[span[at]])
            {
                if ((parseSpecial || !_onlyWhenParsing[id]) && span[at..].StartsWith(_texts[id], StringComparison.Ordinal))
                {
                    present.Add(id);
                }
            }
            offset = at + 1;
        }
        return present;
    }
}
