using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>
/// Splits template text into tokens with jinja2's whitespace rules as Hugging Face configures them
/// (<c>trim_blocks=True</c>, <c>lstrip_blocks=True</c>, <c>keep_trailing_newline=False</c>):
/// a block or comment tag eats one newline after it; whitespace from the start of a line up to a block or
/// comment tag is dropped; <c>-</c> strips all whitespace on its side, <c>+</c> disables lstrip/trim.
/// </summary>
internal sealed partial class JinjaLexer
{
    private const string Operators3 = "**=";
    private static readonly string[] Operators2 = ["==", "!=", "<=", ">=", "//", "**"];
    private const string Operators1 = "+-*/%~<>=.,:|()[]{}";

    private readonly string _source;
    private readonly List<JinjaToken> _tokens = [];
    private int _pos;
    private int _line = 1;

    private JinjaLexer(string source)
    {
        // jinja2 first turns every newline sequence of the source into "\n" (strings included), then,
        // keep_trailing_newline=False, drops one trailing newline.
        if (source.Contains('\r', StringComparison.Ordinal))
            source = source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        if (source.EndsWith('\n'))
            source = source[..^1];
        _source = source;
    }

    public static List<JinjaToken> Tokenize(string source)
    {
        var lexer = new JinjaLexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private void Run()
    {
        while (_pos < _source.Length)
        {
            int tagStart = FindNextTag(_pos);
            string text = tagStart < 0 ? _source[_pos..] : _source[_pos..tagStart];
            if (tagStart < 0)
            {
                EmitText(text);
                _pos = _source.Length;
                break;
            }

            char kind = _source[tagStart + 1];
            int inner = tagStart + 2;
            char sign = inner < _source.Length ? _source[inner] : '\0';
            if (sign == '-')
            {
                text = text.TrimEnd();
                inner++;
            }
            else
            {
                if (sign == '+')
                    inner++;
                else if (kind != '{')
                    text = LstripBlock(text, _pos);
            }

            EmitText(text);
            _line += CountNewlines(_source, _pos, inner);
            _pos = inner;
            switch (kind)
            {
                case '#':
                    LexComment();
                    break;
                case '{':
                    _tokens.Add(new JinjaToken(JinjaTokenKind.VariableBegin, "{{", _line));
                    LexInside(isBlock: false);
                    break;
                default:
                    _tokens.Add(new JinjaToken(JinjaTokenKind.BlockBegin, "{%", _line));
                    LexInside(isBlock: true);
                    TryLexRaw();
                    break;
            }
        }

        _tokens.Add(new JinjaToken(JinjaTokenKind.EndOfFile, "", _line));
    }

    private int FindNextTag(int from)
    {
        int i = from;
        while (true)
        {
            i = _source.IndexOf('{', i);
            if (i < 0 || i + 1 >= _source.Length)
                return -1;
            char next = _source[i + 1];
            if (next is '{' or '%' or '#')
                return i;
            i++;
        }
    }

    /// <summary>lstrip_blocks: drop spaces/tabs between the start of the line and a block/comment tag.</summary>
    private string LstripBlock(string text, int textStart)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        bool lineStarting = textStart == 0 || _source[textStart - 1] == '\n';
        if (lineStart == 0 && !lineStarting)
            return text;
        for (int i = lineStart; i < text.Length; i++)
        {
            if (!char.IsWhiteSpace(text[i]))
                return text;
        }

        return text[..lineStart];
    }

    private void EmitText(string text)
    {
        if (text.Length == 0)
            return;
        _tokens.Add(new JinjaToken(JinjaTokenKind.Text, text, _line));
        _line += CountNewlines(text, 0, text.Length);
    }

    private void LexComment()
    {
        int end = _source.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0)
            throw new TemplateSyntaxException("Missing end of comment tag '#}'", _line);
        bool stripAfter = end > _pos && _source[end - 1] == '-';
        bool keepAfter = end > _pos && _source[end - 1] == '+';
        _line += CountNewlines(_source, _pos, end + 2);
        _pos = end + 2;
        AfterTagEnd(stripAfter, trimNewline: !keepAfter);
    }

    private void AfterTagEnd(bool stripAfter, bool trimNewline)
    {
        if (stripAfter)
        {
            while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos]))
            {
                if (_source[_pos] == '\n')
                    _line++;
                _pos++;
            }
        }
        else if (trimNewline && _pos < _source.Length && _source[_pos] == '\n')
        {
            _pos++;
            _line++;
        }
    }

    private void LexInside(bool isBlock)
    {
        int depth = 0;
        while (true)
        {
            SkipWhitespace();
            if (_pos >= _source.Length)
                throw new TemplateSyntaxException($"Unexpected end of template, expected '{(isBlock ? "%}" : "}}")}'", _line);

            if (depth == 0 && TryLexTagEnd(isBlock))
                return;

            char c = _source[_pos];
            if (c is '\'' or '"')
            {
                LexString(c);
            }
            else if (char.IsAsciiDigit(c))
            {
                LexNumber();
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = _pos;
                while (_pos < _source.Length && (char.IsAsciiLetterOrDigit(_source[_pos]) || _source[_pos] == '_'))
                    _pos++;
                _tokens.Add(new JinjaToken(JinjaTokenKind.Name, _source[start.._pos], _line));
            }
            else
            {
                string op = LexOperator();
                if (op is "(" or "[" or "{")
                    depth++;
                else if (op is ")" or "]" or "}")
                    depth--;
            }
        }
    }

    private bool TryLexTagEnd(bool isBlock)
    {
        string end = isBlock ? "%}" : "}}";
        bool strip = false;
        bool keep = false;
        int at = _pos;
        if (_source[at] is '-' or '+' && string.CompareOrdinal(_source, at + 1, end, 0, 2) == 0)
        {
            strip = _source[at] == '-';
            keep = _source[at] == '+';
            at++;
        }

        if (string.CompareOrdinal(_source, at, end, 0, 2) != 0)
            return false;
        _pos = at + 2;
        _tokens.Add(new JinjaToken(isBlock ? JinjaTokenKind.BlockEnd : JinjaTokenKind.VariableEnd, end, _line));
        AfterTagEnd(strip, trimNewline: isBlock && !keep);
        return true;
    }

    /// <summary>After <c>{% raw %}</c>, everything up to <c>{% endraw %}</c> is text.</summary>
    private void TryLexRaw()
    {
        int n = _tokens.Count;
        if (n < 3 || !_tokens[n - 2].IsName("raw") || _tokens[n - 3].Kind != JinjaTokenKind.BlockBegin)
            return;
        Match m = EndRawRegex().Match(_source, _pos);
        if (!m.Success)
            throw new TemplateSyntaxException("Missing '{% endraw %}'", _line);
        string text = _source[_pos..m.Index];
        if (m.Groups[1].Value == "-")
            text = text.TrimEnd();
        _tokens.RemoveRange(n - 3, 3);
        _tokens.Add(new JinjaToken(JinjaTokenKind.RawText, text, _line));
        _line += CountNewlines(_source, _pos, m.Index + m.Length);
        _pos = m.Index + m.Length;
        AfterTagEnd(m.Groups[2].Value == "-", trimNewline: m.Groups[2].Value != "+");
    }

    [GeneratedRegex(@"\{%([-+]?)\s*endraw\s*([-+]?)%\}")]
    private static partial Regex EndRawRegex();

    private void SkipWhitespace()
    {
        while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos]))
        {
            if (_source[_pos] == '\n')
                _line++;
            _pos++;
        }
    }

    private string LexOperator()
    {
        if (string.CompareOrdinal(_source, _pos, Operators3, 0, 3) == 0)
            throw new TemplateSyntaxException("Augmented assignment is not Jinja", _line);
        foreach (string op in Operators2)
        {
            if (string.CompareOrdinal(_source, _pos, op, 0, 2) == 0)
            {
                _pos += 2;
                _tokens.Add(new JinjaToken(JinjaTokenKind.Operator, op, _line));
                return op;
            }
        }

        char c = _source[_pos];
        if (!Operators1.Contains(c, StringComparison.Ordinal))
            throw new TemplateSyntaxException($"Unexpected character '{c}'", _line);
        _pos++;
        string one = c.ToString();
        _tokens.Add(new JinjaToken(JinjaTokenKind.Operator, one, _line));
        return one;
    }

    private void LexNumber()
    {
        int start = _pos;
        bool isFloat = false;
        while (_pos < _source.Length && (char.IsAsciiDigit(_source[_pos]) || _source[_pos] == '_'))
            _pos++;
        if (_pos + 1 < _source.Length && _source[_pos] == '.' && char.IsAsciiDigit(_source[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            while (_pos < _source.Length && (char.IsAsciiDigit(_source[_pos]) || _source[_pos] == '_'))
                _pos++;
        }

        if (_pos < _source.Length && _source[_pos] is 'e' or 'E')
        {
            int save = _pos;
            _pos++;
            if (_pos < _source.Length && _source[_pos] is '+' or '-')
                _pos++;
            if (_pos < _source.Length && char.IsAsciiDigit(_source[_pos]))
            {
                isFloat = true;
                while (_pos < _source.Length && char.IsAsciiDigit(_source[_pos]))
                    _pos++;
            }
            else
            {
                _pos = save;
            }
        }

        string text = _source[start.._pos].Replace("_", "", StringComparison.Ordinal);
        object literal;
        if (isFloat)
            literal = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        else if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long integer))
            literal = integer;
        else
            throw new TemplateSyntaxException($"Integer literal {text} does not fit in 64 bits", _line);
        _tokens.Add(new JinjaToken(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, text, _line, literal));
    }

    /// <summary>A string literal, decoded the way jinja2 does (Python's unicode-escape rules).</summary>
    private void LexString(char quote)
    {
        int startLine = _line;
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _source.Length)
                throw new TemplateSyntaxException("Unterminated string literal", startLine);
            char c = _source[_pos++];
            if (c == quote)
                break;
            if (c == '\n')
                _line++;
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (_pos >= _source.Length)
                throw new TemplateSyntaxException("Unterminated string literal", startLine);
            char e = _source[_pos++];
            switch (e)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x': sb.Append(ReadHex(2, startLine)); break;
                case 'u': sb.Append(ReadHex(4, startLine)); break;
                case 'U': sb.Append(ReadHex(8, startLine)); break;
                case >= '0' and <= '7':
                    int value = e - '0';
                    for (int k = 0; k < 2 && _pos < _source.Length && _source[_pos] is >= '0' and <= '7'; k++)
                        value = (value * 8) + (_source[_pos++] - '0');
                    sb.Append((char)value);
                    break;
                default:
                    sb.Append('\\').Append(e);
                    break;
            }
        }

        string s = sb.ToString();
        _tokens.Add(new JinjaToken(JinjaTokenKind.String, s, startLine, s));
    }

    private string ReadHex(int digits, int line)
    {
        if (_pos + digits > _source.Length
            || !int.TryParse(_source.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
        {
            throw new TemplateSyntaxException("Invalid escape in string literal", line);
        }

        _pos += digits;
        // Python allows lone surrogates in a str ("\ud800"), but no code point above U+10FFFF.
        if (code is >= 0 and <= 0xFFFF)
            return ((char)code).ToString();
        if (code is < 0 or > 0x10FFFF)
            throw new TemplateSyntaxException("Illegal Unicode character in string literal", line);
        return char.ConvertFromUtf32(code);
    }

    private static int CountNewlines(string s, int start, int end)
    {
        int n = 0;
        for (int i = start; i < end && i < s.Length; i++)
        {
            if (s[i] == '\n')
                n++;
        }

        return n;
    }
}
