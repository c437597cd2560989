namespace Fathom.Engine.Constraints;

/// <summary>
/// A set of characters that string content may hold unescaped: ASCII bytes 0x20–0x7F (bit b of <see cref="Low"/> for
/// b &lt; 64, bit b − 64 of <see cref="High"/> otherwise), plus, if <see cref="NonAscii"/>, every non-ASCII code point.
/// Masks at a state where every character of the class leads to one same next state reuse that class's token tables.
/// </summary>
internal readonly record struct ContentClass(ulong Low, ulong High, bool NonAscii)
{
    /// <summary>Every character a JSON string may hold unescaped (no control character, quote or backslash).</summary>
    public static ContentClass JsonString { get; } = AllAsciiContent() with { NonAscii = true };

    public bool Contains(byte b) => b < 64 ? (Low >> b & 1) != 0 : b < 128 && (High >> (b - 64) & 1) != 0;

    public int AsciiCount => System.Numerics.BitOperations.PopCount(Low) + System.Numerics.BitOperations.PopCount(High);

    /// <summary>The ASCII bytes a class may hold at all: printable, DEL, not quote or backslash.</summary>
    public static bool IsCandidate(int b) => b is >= 0x20 and <= 0x7F and not '"' and not '\\';

    public ContentClass With(byte b) => b < 64 ? this with { Low = Low | (1UL << b) } : this with { High = High | (1UL << (b - 64)) };

    private static ContentClass AllAsciiContent()
    {
        var set = default(ContentClass);
        for (int b = 0; b < 128; b++)
        {
            if (IsCandidate(b))
            {
                set = set.With((byte)b);
            }
        }

        return set;
    }
}
