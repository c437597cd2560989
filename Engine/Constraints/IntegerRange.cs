namespace Fathom.Engine.Constraints;

/// <summary>
/// Exact integer ranges as digit automata: every integer in [low, high] written the JSON way (no leading zeros, no "-0"),
/// and nothing else. An open side is capped at <see cref="JsonGrammars.MaxIntegerDigits"/> digits.
/// </summary>
internal static class IntegerRange
{
    /// <summary>The largest magnitude with <see cref="JsonGrammars.MaxIntegerDigits"/> digits.</summary>
    public const long Limit = 999_999_999_999_999_999;

    /// <summary>Integers in [low, high] (null = open); null if the range is empty.</summary>
    public static GrammarNode? Signed(long? low, long? high)
    {
        var alternatives = new List<GrammarNode>();
        if (low is null || low < 0)
        {
            long smallest = high is { } h ? Math.Max(1, -Math.Min(h, -1)) : 1; // magnitudes of the negative part
            long? largest = low is { } l ? -l : null;
            if (Unsigned(smallest, largest) is { } negative)
            {
                alternatives.Add(G.Seq(G.Lit("-"), negative));
            }
        }

        if (high is null || high >= 0)
        {
            if (Unsigned(Math.Max(low ?? 0, 0), high) is { } positive)
            {
                alternatives.Add(positive);
            }
        }

        return alternatives.Count == 0 ? null : G.Alt([.. alternatives]);
    }

    /// <summary>Non-negative integers in [low, high] (high null = open); null if empty.</summary>
    public static GrammarNode? Unsigned(long low, long? high)
    {
        long top = Math.Min(high ?? Limit, Limit);
        if (low > top)
        {
            return null;
        }

        var alternatives = new List<GrammarNode>();
        long lengthStart = 1;
        for (int length = 1; length <= JsonGrammars.MaxIntegerDigits; length++)
        {
            long lengthEnd = (lengthStart * 10) - 1;
            long from = Math.Max(low, length == 1 ? 0 : lengthStart);
            long to = Math.Min(top, lengthEnd);
            if (from <= to)
            {
                string a = from.ToString(System.Globalization.CultureInfo.InvariantCulture);
                string b = to.ToString(System.Globalization.CultureInfo.InvariantCulture);
                alternatives.Add(SameLength(a, b));
            }

            if (lengthEnd >= top)
            {
                break;
            }

            lengthStart *= 10;
        }

        return alternatives.Count == 0 ? null : G.Alt([.. alternatives]);
    }

    // Digit strings of one length between a and b inclusive.
    private static GrammarNode SameLength(string a, string b)
    {
        if (a.Length == 0)
        {
            return G.Empty;
        }

        if (a.All(c => c == '0') && b.All(c => c == '9'))
        {
            return G.Digits(a.Length);
        }

        if (a[0] == b[0])
        {
            return G.Seq(G.Lit(a[..1]), SameLength(a[1..], b[1..]));
        }

        int rest = a.Length - 1;
        var alternatives = new List<GrammarNode>
        {
            G.Seq(G.Lit(a[..1]), SameLength(a[1..], new string('9', rest))),
        };
        if (a[0] + 1 <= b[0] - 1)
        {
            alternatives.Add(G.Seq(G.Set(a[0] + 1, b[0] - 1), G.Digits(rest)));
        }

        alternatives.Add(G.Seq(G.Lit(b[..1]), SameLength(new string('0', rest), b[1..])));
        return G.Alt([.. alternatives]);
    }
}
