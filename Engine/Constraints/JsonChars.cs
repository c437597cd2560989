namespace Fathom.Engine.Constraints;

/// <summary>How a set of characters appears inside a JSON string: unescaped UTF-8 where JSON allows it, escapes where it must.</summary>
internal static class JsonChars
{
    /// <summary>The JSON string content forms of every code point in <paramref name="set"/>; null if the set is empty.</summary>
    public static GrammarNode? Encode(CodePointSet set)
    {
        var alternatives = new List<GrammarNode>();
        foreach (var (low, high) in set.Ranges)
        {
            // Unescaped: everything from space up, except the quote and the backslash.
            foreach (var (a, b) in new[] { (0x20, 0x21), (0x23, 0x5B), (0x5D, CodePointSet.MaxCodePoint) })
            {
                if (Math.Max(low, a) <= Math.Min(high, b) && Utf8.Range(Math.Max(low, a), Math.Min(high, b)) is { } bytes)
                {
                    alternatives.Add(bytes);
                }
            }

            for (int c = low; c <= Math.Min(high, 0x1F); c++)
            {
                alternatives.Add(G.Lit(c switch
                {
                    '\b' => "\\b",
                    '\f' => "\\f",
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    _ => $"\\u{c:x4}",
                }));
            }

            if (low <= '"' && '"' <= high)
            {
                alternatives.Add(G.Lit("\\\""));
            }

            if (low <= '\\' && '\\' <= high)
            {
                alternatives.Add(G.Lit("\\\\"));
            }
        }

        return alternatives.Count == 0 ? null : G.Alt([.. alternatives]);
    }
}
