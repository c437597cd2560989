using System.Globalization;

namespace Fathom.Engine.Constraints;

/// <summary>
/// Compiles a JSON Schema <c>pattern</c> (ECMA-262 syntax, a regular subset) into a grammar over the pattern-matching
/// string's JSON-encoded bytes. Supported: literals and escapes, <c>.</c>, classes (ranges, negation, \d \w \s and their
/// negations), groups (capturing, non-capturing, named), alternation, the quantifiers * + ? {n} {n,} {n,m} (lazy or not:
/// the language is the same), and ^/$ at the ends of top-level alternatives. An unanchored side may carry any characters,
/// as JSON Schema's search semantics allow. Back-references, lookaround and word boundaries are refused.
/// Negated sets (<c>.</c>, \D, \W, \S, [^...]) generate printable ASCII only, so the output matches whichever regex
/// engine (Unicode-aware or not) the client validates with.
/// </summary>
internal sealed class RegexGrammar
{
    private const int MaxRepeat = 1000;

    private static readonly CodePointSet Digits = CodePointSet.Of([('0', '9')]);
    private static readonly CodePointSet Word = CodePointSet.Of([('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')]);
    private static readonly CodePointSet Space = CodePointSet.Of([
        ('\t', '\r'), (' ', ' '), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F),
        (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]);

    private readonly string _pattern;
    private int _at;

    private RegexGrammar(string pattern) => _pattern = pattern;

    public static GrammarNode Compile(string pattern)
    {
        var parser = new RegexGrammar(pattern);
        var alternatives = new List<GrammarNode>();
        var any = G.Rep(JsonGrammars.StringChar, 0, null);
        do
        {
            bool startAnchored = parser.Eat('^');
            var body = parser.Sequence(topLevel: true);
            bool endAnchored = parser.Eat('$');
            alternatives.Add(G.Seq(startAnchored ? G.Empty : any, body, endAnchored ? G.Empty : any));
        }
        while (parser.Eat('|'));

        if (parser._at < pattern.Length)
        {
            throw parser.Error($"unexpected '{pattern[parser._at]}'");
        }

        return G.Alt([.. alternatives]);
    }

    private bool AtEnd => _at >= _pattern.Length;

    private char Peek => _pattern[_at];

    private bool Eat(char c)
    {
        if (!AtEnd && Peek == c)
        {
            _at++;
            return true;
        }

        return false;
    }

    private RegexNotSupportedException Error(string what) => new($"pattern '{_pattern}' at offset {_at}: {what}");

    private GrammarNode Alternation()
    {
        var alternatives = new List<GrammarNode> { Sequence(topLevel: false) };
        while (Eat('|'))
        {
            alternatives.Add(Sequence(topLevel: false));
        }

        return G.Alt([.. alternatives]);
    }

    private GrammarNode Sequence(bool topLevel)
    {
        var parts = new List<GrammarNode>();
        while (!AtEnd && Peek is not ('|' or ')'))
        {
            if (Peek == '$')
            {
                if (topLevel && (_at + 1 == _pattern.Length || _pattern[_at + 1] == '|'))
                {
                    break;
                }

                throw Error("'$' is supported only at the end of the pattern");
            }

            if (Peek == '^')
            {
                throw Error("'^' is supported only at the start of the pattern");
            }

            var atom = Atom();
            parts.Add(Quantified(atom));
        }

        return G.Seq([.. parts]);
    }

    private GrammarNode Quantified(GrammarNode atom)
    {
        if (AtEnd)
        {
            return atom;
        }

        int min;
        int? max;
        switch (Peek)
        {
            case '*':
                _at++;
                (min, max) = (0, null);
                break;
            case '+':
                _at++;
                (min, max) = (1, null);
                break;
            case '?':
                _at++;
                (min, max) = (0, 1);
                break;
            case '{' when TryBraces(out min, out max):
                break;
            default:
                return atom;
        }

        Eat('?'); // lazy: same language
        if (!AtEnd && Peek is '*' or '+' or '?' or '{')
        {
            throw Error("possessive or stacked quantifiers are not supported");
        }

        return G.Rep(atom, min, max);
    }

    private bool TryBraces(out int min, out int? max)
    {
        int start = _at;
        min = 0;
        max = null;
        int close = _pattern.IndexOf('}', _at);
        if (close < 0)
        {
            return false;
        }

        string inside = _pattern[(_at + 1)..close];
        string[] parts = inside.Split(',');
        if (parts.Length is < 1 or > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out min))
        {
            return false;
        }

        if (parts.Length == 1)
        {
            max = min;
        }
        else if (parts[1].Length > 0)
        {
            if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int upper))
            {
                return false;
            }

            max = upper;
        }

        if (min > MaxRepeat || max > MaxRepeat || max < min)
        {
            _at = start;
            throw Error($"repetition bounds must be ordered and at most {MaxRepeat}");
        }

        _at = close + 1;
        return true;
    }

    private GrammarNode Atom()
    {
        char c = _pattern[_at++];
        switch (c)
        {
            case '(':
            {
                if (Eat('?'))
                {
                    if (Eat(':'))
                    {
                    }
                    else if (Eat('<') && !AtEnd && Peek is not ('=' or '!'))
                    {
                        int close = _pattern.IndexOf('>', _at);
                        if (close < 0)
                        {
                            throw Error("unterminated group name");
                        }

                        _at = close + 1;
                    }
                    else
                    {
                        throw Error("lookaround and inline flags are not supported");
                    }
                }

                var inner = Alternation();
                if (!Eat(')'))
                {
                    throw Error("missing ')'");
                }

                return inner;
            }

            case '[':
                return Chars(Class());
            case '.':
                return Chars(CodePointSet.Of([('\n', '\n'), ('\r', '\r'), (0x2028, 0x2029)]).Complement(), negated: true);
            case '\\':
                return Escape(inClass: false) switch
                {
                    (var set, bool negated) => Chars(set, negated),
                };
            case ')' or ']' or '}' or '*' or '+' or '?' or '{':
                _at--;
                throw Error($"unexpected '{c}'");
            default:
                return Chars(CodePointSet.Single(ReadCodePoint(c)));
        }
    }

    // A surrogate pair in the pattern string is one code point.
    private int ReadCodePoint(char c)
    {
        if (char.IsHighSurrogate(c) && !AtEnd && char.IsLowSurrogate(Peek))
        {
            return char.ConvertToUtf32(c, _pattern[_at++]);
        }

        return char.IsSurrogate(c) ? throw Error("lone surrogate") : c;
    }

    private (CodePointSet Set, bool Negated) Escape(bool inClass)
    {
        if (AtEnd)
        {
            throw Error("pattern ends with '\\'");
        }

        char c = _pattern[_at++];
        switch (c)
        {
            case 'd': return (Digits, false);
            case 'D': return (Digits.Complement(), true);
            case 'w': return (Word, false);
            case 'W': return (Word.Complement(), true);
            case 's': return (Space, false);
            case 'S': return (Space.Complement(), true);
            case 't': return (CodePointSet.Single('\t'), false);
            case 'n': return (CodePointSet.Single('\n'), false);
            case 'r': return (CodePointSet.Single('\r'), false);
            case 'f': return (CodePointSet.Single('\f'), false);
            case 'v': return (CodePointSet.Single('\v'), false);
            case '0' when AtEnd || !char.IsAsciiDigit(Peek): return (CodePointSet.Single(0), false);
            case 'b' when inClass: return (CodePointSet.Single('\b'), false);
            case 'x': return (CodePointSet.Single(Hex(2)), false);
            case 'u': return (CodePointSet.Single(Hex(4)), false);
            default:
                if (char.IsAsciiLetterOrDigit(c))
                {
                    _at--;
                    throw Error($"'\\{c}' (back-references, word boundaries, Unicode properties, control escapes) is not supported");
                }

                return (CodePointSet.Single(ReadCodePoint(c)), false);
        }
    }

    private int Hex(int digits)
    {
        if (_at + digits > _pattern.Length || !int.TryParse(_pattern.AsSpan(_at, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
        {
            throw Error("malformed hexadecimal escape");
        }

        _at += digits;
        if (value is >= 0xD800 and <= 0xDFFF)
        {
            throw Error("surrogate escapes are not supported");
        }

        return value;
    }

    private (CodePointSet Set, bool Negated) Class()
    {
        bool negate = Eat('^');
        var set = CodePointSet.Of([]);
        bool first = true;
        while (true)
        {
            if (AtEnd)
            {
                throw Error("missing ']'");
            }

            if (Peek == ']' && !first)
            {
                _at++;
                break;
            }

            first = false;
            var (low, lowSet) = ClassAtom();
            if (lowSet is null && _at + 1 < _pattern.Length && Peek == '-' && _pattern[_at + 1] != ']')
            {
                _at++;
                var (high, highSet) = ClassAtom();
                if (highSet is not null || high < low)
                {
                    throw Error("bad range in class");
                }

                set = set.Union(CodePointSet.Of([(low, high)]));
            }
            else
            {
                set = set.Union(lowSet ?? CodePointSet.Single(low));
            }
        }

        return negate ? (set.Complement(), true) : (set, false);
    }

    private (int CodePoint, CodePointSet? Set) ClassAtom()
    {
        char c = _pattern[_at++];
        if (c != '\\')
        {
            return (ReadCodePoint(c), null);
        }

        var (set, _) = Escape(inClass: true);
        return set.Ranges is [var (low, high)] && low == high ? (low, null) : (0, set);
    }

    private static GrammarNode Chars((CodePointSet Set, bool Negated) set) => Chars(set.Set, set.Negated);

    private static GrammarNode Chars(CodePointSet set, bool negated = false)
    {
        if (negated)
        {
            set = set.Intersect(0x20, 0x7E);
        }

        return JsonChars.Encode(set) ?? throw new RegexNotSupportedException("a character class matches no character");
    }
}
