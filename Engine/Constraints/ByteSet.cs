namespace Fathom.Engine.Constraints;

/// <summary>A set of byte values (256 bits); the alphabet of the byte-level automata.</summary>
internal readonly record struct ByteSet(ulong W0, ulong W1, ulong W2, ulong W3)
{
    public static ByteSet Of(byte b) => Empty.With(b);

    public static ByteSet Empty => default;

    public static ByteSet Range(int low, int high)
    {
        var set = Empty;
        for (int b = low; b <= high; b++)
        {
            set = set.With((byte)b);
        }

        return set;
    }

    public static ByteSet Of(string asciiChars)
    {
        var set = Empty;
        foreach (char c in asciiChars)
        {
            set = set.With((byte)c);
        }

        return set;
    }

    public bool Contains(byte b) => ((b >> 6) switch { 0 => W0, 1 => W1, 2 => W2, _ => W3 } & (1UL << (b & 63))) != 0;

    public ByteSet With(byte b) => (b >> 6) switch
    {
        0 => this with { W0 = W0 | (1UL << (b & 63)) },
        1 => this with { W1 = W1 | (1UL << (b & 63)) },
        2 => this with { W2 = W2 | (1UL << (b & 63)) },
        _ => this with { W3 = W3 | (1UL << (b & 63)) },
    };

    public ByteSet Union(ByteSet other) => new(W0 | other.W0, W1 | other.W1, W2 | other.W2, W3 | other.W3);

    public ByteSet Except(ByteSet other) => new(W0 & ~other.W0, W1 & ~other.W1, W2 & ~other.W2, W3 & ~other.W3);

    public bool IsEmpty => (W0 | W1 | W2 | W3) == 0;
}
