namespace Fathom.Engine.Constraints;

/// <summary>Well-formed UTF-8 as byte grammars (RFC 3629 table 3-7): code point ranges to byte sequences.</summary>
internal static class Utf8
{
    private static readonly GrammarNode Tail = G.Set(0x80, 0xBF);

    /// <summary>Any well-formed 2-, 3- or 4-byte sequence (every non-ASCII code point except surrogates).</summary>
    /// <remarks>
    /// Common tails are shared (every sequence ends in one continuation byte, 4-byte ones in two), so the automaton has
    /// one state per "continuation bytes still due" rather than one per lead range: a counted string repeats this per
    /// position, and the states it saves are compile time and configurations.
    /// </remarks>
    public static GrammarNode MultiByte { get; } = G.Seq(
        G.Alt(
            G.Set(0xC2, 0xDF),
            G.Seq(G.Set(0xE0, 0xE0), G.Set(0xA0, 0xBF)),
            G.Seq(G.Set(ByteSet.Range(0xE1, 0xEC).Union(ByteSet.Range(0xEE, 0xEF))), Tail),
            G.Seq(G.Set(0xED, 0xED), G.Set(0x80, 0x9F)),
            G.Seq(
                G.Alt(
                    G.Seq(G.Set(0xF0, 0xF0), G.Set(0x90, 0xBF)),
                    G.Seq(G.Set(0xF1, 0xF3), Tail),
                    G.Seq(G.Set(0xF4, 0xF4), G.Set(0x80, 0x8F))),
                Tail)),
        Tail);

    /// <summary>Any code point in [<paramref name="low"/>, <paramref name="high"/>] (surrogates left out) as UTF-8 bytes; null if none.</summary>
    public static GrammarNode? Range(int low, int high)
    {
        var alternatives = new List<GrammarNode>();
        int[] limits = [0x7F, 0x7FF, 0xFFFF, 0x10FFFF];
        int start = low;
        foreach (int limit in limits)
        {
            if (start > high)
            {
                break;
            }

            if (start > limit)
            {
                continue;
            }

            int end = Math.Min(high, limit);
            if (limit == 0xFFFF)
            {
                // Surrogates are not characters: split around them.
                if (start < 0xD800)
                {
                    Split(start, Math.Min(end, 0xD7FF), alternatives);
                }

                if (end > 0xDFFF)
                {
                    Split(Math.Max(start, 0xE000), end, alternatives);
                }
            }
            else
            {
                Split(start, end, alternatives);
            }

            start = end + 1;
        }

        return alternatives.Count == 0 ? null : G.Alt([.. alternatives]);
    }

    // Splits [low, high] (one encoded length) until every byte position is an independent range, then emits one sequence each.
    private static void Split(int low, int high, List<GrammarNode> output)
    {
        int length = low <= 0x7F ? 1 : low <= 0x7FF ? 2 : low <= 0xFFFF ? 3 : 4;
        for (int i = 1; i < length; i++)
        {
            int mask = (1 << (6 * i)) - 1;
            if ((low & ~mask) != (high & ~mask))
            {
                if ((low & mask) != 0)
                {
                    Split(low, low | mask, output);
                    Split((low | mask) + 1, high, output);
                    return;
                }

                if ((high & mask) != mask)
                {
                    Split(low, (high & ~mask) - 1, output);
                    Split(high & ~mask, high, output);
                    return;
                }
            }
        }

        byte[] a = Encode(low, length);
        byte[] b = Encode(high, length);
        var parts = new GrammarNode[length];
        for (int k = 0; k < length; k++)
        {
            parts[k] = G.Set(a[k], b[k]);
        }

        output.Add(G.Seq(parts));
    }

    private static byte[] Encode(int codePoint, int length) => length switch
    {
        1 => [(byte)codePoint],
        2 => [(byte)(0xC0 | (codePoint >> 6)), (byte)(0x80 | (codePoint & 0x3F))],
        3 => [(byte)(0xE0 | (codePoint >> 12)), (byte)(0x80 | ((codePoint >> 6) & 0x3F)), (byte)(0x80 | (codePoint & 0x3F))],
        _ => [(byte)(0xF0 | (codePoint >> 18)), (byte)(0x80 | ((codePoint >> 12) & 0x3F)), (byte)(0x80 | ((codePoint >> 6) & 0x3F)), (byte)(0x80 | (codePoint & 0x3F))],
    };
}
