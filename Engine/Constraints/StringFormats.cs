namespace Fathom.Engine.Constraints;

/// <summary>
/// The string formats OpenAI's strict mode supports, as grammars for the string's content. Each generates a subset of
/// its RFC's syntax that parsers accept everywhere: dates have days that exist (February stops at 28, so leap years
/// need no arithmetic), years 1000–9999, offsets within ±14:00, fractions of at most 6 digits.
/// </summary>
internal static class StringFormats
{
    private static readonly GrammarNode Hex = G.Set(ByteSet.Range('0', '9').Union(ByteSet.Range('a', 'f')).Union(ByteSet.Range('A', 'F')));

    private static readonly GrammarNode Date = G.Seq(
        G.Set('1', '9'), G.Digits(3), G.Lit("-"),
        G.Alt(
            G.Seq(G.Alt(G.Lit("01"), G.Lit("03"), G.Lit("05"), G.Lit("07"), G.Lit("08"), G.Lit("10"), G.Lit("12")), G.Lit("-"), DayUpTo(31)),
            G.Seq(G.Alt(G.Lit("04"), G.Lit("06"), G.Lit("09"), G.Lit("11")), G.Lit("-"), DayUpTo(30)),
            G.Seq(G.Lit("02-"), DayUpTo(28))));

    private static readonly GrammarNode Hour = G.Alt(G.Seq(G.Chars("01"), G.Digit), G.Seq(G.Lit("2"), G.Set('0', '3')));

    private static readonly GrammarNode Minute = G.Seq(G.Set('0', '5'), G.Digit);

    private static readonly GrammarNode Time = G.Seq(
        Hour, G.Lit(":"), Minute, G.Lit(":"), Minute,
        G.Opt(G.Seq(G.Lit("."), G.Rep(G.Digit, 1, 6))),
        G.Alt(
            G.Lit("Z"),
            G.Seq(G.Chars("+-"), G.Alt(G.Seq(G.Lit("0"), G.Digit), G.Seq(G.Lit("1"), G.Set('0', '3'))), G.Lit(":"), Minute),
            G.Seq(G.Chars("+-"), G.Lit("14:00"))));

    private static readonly GrammarNode Alphanumeric = G.Set(ByteSet.Range('a', 'z').Union(ByteSet.Range('A', 'Z')).Union(ByteSet.Range('0', '9')));

    private static readonly GrammarNode Label = G.Seq(G.Rep(Alphanumeric, 1, null), G.Rep(G.Seq(G.Lit("-"), G.Rep(Alphanumeric, 1, null)), 0, null));

    private static readonly GrammarNode Email = G.Seq(
        G.Rep(Alphanumeric, 1, null),
        G.Rep(G.Seq(G.Chars("._+-"), G.Rep(Alphanumeric, 1, null)), 0, null),
        G.Lit("@"),
        Label,
        G.Rep(G.Seq(G.Lit("."), Label), 0, null),
        G.Lit("."),
        G.Rep(G.Set(ByteSet.Range('a', 'z').Union(ByteSet.Range('A', 'Z'))), 2, 24));

    private static readonly GrammarNode Uuid = G.Seq(
        G.Rep(Hex, 8, 8), G.Lit("-"), G.Rep(Hex, 4, 4), G.Lit("-"), G.Rep(Hex, 4, 4), G.Lit("-"), G.Rep(Hex, 4, 4), G.Lit("-"), G.Rep(Hex, 12, 12));

    /// <summary>The content grammar of format <paramref name="name"/>, or null if it is not supported.</summary>
    public static GrammarNode? Get(string name) => name switch
    {
        "date" => Date,
        "time" => Time,
        "date-time" => G.Seq(Date, G.Lit("T"), Time),
        "email" => Email,
        "uuid" => Uuid,
        _ => null,
    };

    private static GrammarNode DayUpTo(int last)
    {
        var days = new List<GrammarNode>
        {
            G.Seq(G.Lit("0"), G.Set('1', '9')),
            G.Seq(G.Lit("1"), G.Digit),
            last >= 29 ? G.Seq(G.Lit("2"), G.Digit) : G.Seq(G.Lit("2"), G.Set('0', '8')),
        };
        if (last == 30)
        {
            days.Add(G.Lit("30"));
        }
        else if (last == 31)
        {
            days.Add(G.Seq(G.Lit("3"), G.Chars("01")));
        }

        return G.Alt([.. days]);
    }
}
