namespace Fathom.Engine.Tokenization;

/// <summary>
/// A hand-written matcher for the Llama 3 pre-tokenizer expression, many times faster than the regular
/// expression and equal to it match for match (a test checks this on random text):
/// <c>(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
/// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>. Every character falls into some match, so there are
/// no gaps. Works on text with one char per code point (see <see cref="PreTokenizer"/>).
/// </summary>
internal static class Llama3Splitter
{
    private const byte Other = 0;
    private const byte Letter = 1;
    private const byte Number = 2;
    private const byte Space = 3;

    private static readonly byte[] AsciiClass = BuildAscii();

    public static void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> words)
    {
        var i = 0;
        var n = text.Length;
        while (i < n)
        {
            var length = MatchAt(text, i);
            words.Add((i, length));
            i += length;
        }
    }

    private static int MatchAt(ReadOnlySpan<char> s, int i)
    {
        var n = s.Length;
        var c = s[i];

        // 1. Contractions: 's 't 're 've 'm 'll 'd, either case.
        if (c == '\'' && i + 1 < n)
        {
            var c1 = char.ToLowerInvariant(s[i + 1]);
            if (c1 is 's' or 't' or 'm' or 'd' && IsAsciiCaseOf(s[i + 1], c1))
            {
                return 2;
            }
            if (i + 2 < n && IsAsciiCaseOf(s[i + 1], c1))
            {
                var c2 = s[i + 2];
                if ((c1 == 'r' && (c2 is 'e' or 'E')) || (c1 == 'v' && (c2 is 'e' or 'E')) || (c1 == 'l' && (c2 is 'l' or 'L')))
                {
                    return 3;
                }
            }
        }

        var cls = Classify(c);

        // 2. [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls == Letter)
        {
            return RunOf(s, i, Letter) - i;
        }
        if (cls != Number && c != '\r' && c != '\n' && i + 1 < n && Classify(s[i + 1]) == Letter)
        {
            return RunOf(s, i + 1, Letter) - i;
        }

        // 3. \p{N}{1,3}
        if (cls == Number)
        {
            var end = i + 1;
            while (end < n && end - i < 3 && Classify(s[end]) == Number)
            {
                end++;
            }
            return end - i;
        }

        // 4.  ?[^\s\p{L}\p{N}]+[\r\n]*
        var start = c == ' ' && i + 1 < n && Classify(s[i + 1]) == Other ? i + 1 : i;
        if (Classify(s[start]) == Other)
        {
            var end = RunOf(s, start, Other);
            while (end < n && s[end] is '\r' or '\n')
            {
                end++;
            }
            return end - i;
        }

        // Whitespace from here on: [i, wsEnd) is the run.
        var wsEnd = RunOf(s, i, Space);

        // 5. \s*[\r\n]+ — up to the last line break in the run.
        for (var k = wsEnd - 1; k >= i; k--)
        {
            if (s[k] is '\r' or '\n')
            {
                return k + 1 - i;
            }
        }

        // 6. \s+(?!\S) — the run, less its last character when a non-space follows.
        if (wsEnd == n)
        {
            return wsEnd - i;
        }
        if (wsEnd - 1 > i)
        {
            return wsEnd - 1 - i;
        }

        // 7. \s+
        return wsEnd - i;
    }

    private static bool IsAsciiCaseOf(char c, char lower) => c == lower || c == char.ToUpperInvariant(lower);

    private static int RunOf(ReadOnlySpan<char> s, int from, byte cls)
    {
        var end = from;
        while (end < s.Length && Classify(s[end]) == cls)
        {
            end++;
        }
        return end;
    }

    private static byte Classify(char c)
    {
        if (c < 128)
        {
            return AsciiClass[c];
        }
        if (char.IsLetter(c))
        {
            return Letter;
        }
        if (char.IsNumber(c))
        {
            return Number;
        }
        return char.IsWhiteSpace(c) ? Space : Other;
    }

    private static byte[] BuildAscii()
    {
        var table = new byte[128];
        for (var c = 0; c < 128; c++)
        {
            var ch = (char)c;
            table[c] = char.IsLetter(ch) ? Letter : char.IsNumber(ch) ? Number : char.IsWhiteSpace(ch) ? Space : Other;
        }
        return table;
    }
}
