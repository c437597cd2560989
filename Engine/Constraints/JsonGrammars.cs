namespace Fathom.Engine.Constraints;

/// <summary>The JSON building blocks: whitespace, strings, numbers and any value (RFC 8259).</summary>
internal static class JsonGrammars
{
    /// <summary>Line breaks one whitespace slot allows: two, so a blank line (as reasoning models write after their reasoning) fits.</summary>
    public const int MaxLineBreaks = 2;

    /// <summary>Spaces or tabs of indentation after the line breaks: pretty-printing five levels deep at four spaces.</summary>
    public const int MaxIndent = 20;

    /// <summary>The most whitespace bytes one whitespace slot allows (CR LF twice, then the indentation).</summary>
    public const int MaxWhitespace = (2 * MaxLineBreaks) + MaxIndent;

    /// <summary>Most digits of an integer without bounds (so it fits a 64-bit integer), and of a number's integer and fraction parts.</summary>
    public const int MaxIntegerDigits = 18;

    public const int MaxFractionDigits = 15;

    /// <summary>
    /// Nothing, one space, or up to <see cref="MaxLineBreaks"/> line breaks and then up to <see cref="MaxIndent"/> spaces or
    /// tabs: compact and pretty-printed JSON both fit, and a model can spend a few tokens per slot on whitespace, never a loop.
    /// </summary>
    public static GrammarNode Whitespace { get; } = G.Alt(
        G.Empty,
        G.Lit(" "),
        G.Seq(G.Rep(G.Seq(G.Opt(G.Lit("\r")), G.Lit("\n")), 1, MaxLineBreaks), G.Rep(G.Chars(" \t"), 0, MaxIndent)));

    private static readonly GrammarNode Hex = G.Set(ByteSet.Range('0', '9').Union(ByteSet.Range('a', 'f')).Union(ByteSet.Range('A', 'F')));

    // \uXXXX outside the surrogates, so every escape is one whole character. The last two hex digits are shared by both
    // branches, so a counted string pays two states per position for them, not four.
    private static readonly GrammarNode UnicodeEscape = G.Seq(
        G.Lit("u"),
        G.Alt(
            G.Seq(G.Set(ByteSet.Range('0', '9').Union(ByteSet.Range('a', 'c')).Union(ByteSet.Range('A', 'C')).Union(ByteSet.Of("eEfF"))), Hex),
            G.Seq(G.Chars("dD"), G.Set('0', '7'))),
        Hex,
        Hex);

    /// <summary>Any one character of a JSON string's content: unescaped UTF-8 or an escape.</summary>
    public static GrammarNode StringChar { get; } = G.Alt(
        G.Set(ByteSet.Range(0x20, 0x7F).Except(ByteSet.Of("\"\\"))),
        Utf8.MultiByte,
        G.Seq(G.Lit("\\"), G.Alt(G.Chars("\"\\/bfnrt"), UnicodeEscape)));

    public static GrammarNode AnyString { get; } = Quoted(G.Rep(StringChar, 0, null));

    public static GrammarNode Quoted(GrammarNode content) => G.Seq(G.Lit("\""), content, G.Lit("\""));

    private static readonly GrammarNode UnsignedInteger = G.Alt(G.Lit("0"), G.Seq(G.Set('1', '9'), G.Rep(G.Digit, 0, MaxIntegerDigits - 1)));

    public static GrammarNode AnyInteger { get; } = G.Seq(G.Opt(G.Lit("-")), UnsignedInteger);

    /// <summary>A fraction that is never all zeros, so a number with one is strictly between two integers.</summary>
    public static GrammarNode NonZeroFraction { get; } = G.Seq(G.Lit("."), G.Rep(G.Digit, 0, MaxFractionDigits - 1), G.Set('1', '9'));

    public static GrammarNode AnyNumber { get; } = G.Seq(AnyInteger, G.Opt(G.Seq(G.Lit("."), G.Rep(G.Digit, 1, MaxFractionDigits))));

    private static readonly RuleNode Value = BuildValue();

    public static GrammarNode AnyValue => Value;

    public static GrammarNode AnyObject { get; } = ObjectOf(Value);

    private static RuleNode BuildValue()
    {
        var value = new RuleNode("json-value");
        value.Body = G.Alt(ObjectOf(value), ArrayOf(value), AnyString, AnyNumber, G.Lit("true"), G.Lit("false"), G.Lit("null"));
        return value;
    }

    private static GrammarNode ObjectOf(GrammarNode value)
    {
        var member = G.Seq(AnyString, Whitespace, G.Lit(":"), Whitespace, value);
        var members = G.Rep(member, 1, null, G.Seq(Whitespace, G.Lit(","), Whitespace));
        return G.Seq(G.Lit("{"), Whitespace, G.Alt(G.Lit("}"), G.Seq(members, Whitespace, G.Lit("}"))));
    }

    /// <summary>A JSON array of <paramref name="item"/>s, between <paramref name="min"/> and <paramref name="max"/> of them.</summary>
    public static GrammarNode ArrayOf(GrammarNode item, int min = 0, int? max = null)
    {
        var separator = G.Seq(Whitespace, G.Lit(","), Whitespace);
        var nonEmpty = G.Seq(G.Rep(item, Math.Max(min, 1), max, separator), Whitespace, G.Lit("]"));
        if (max == 0)
        {
            return G.Seq(G.Lit("["), Whitespace, G.Lit("]"));
        }

        return G.Seq(G.Lit("["), Whitespace, min == 0 ? G.Alt(G.Lit("]"), nonEmpty) : nonEmpty);
    }
}
