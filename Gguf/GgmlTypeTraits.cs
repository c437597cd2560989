namespace Fathom.Gguf;

/// <summary>Block geometry of each <see cref="GgmlType"/>: how many elements a block holds and how many bytes it takes.</summary>
public static class GgmlTypeTraits
{
    // (block size in elements, block size in bytes); index = ggml id, zero = retired/unknown id.
    private static readonly (int Size, int Bytes)[] Table = BuildTable();

    private static (int Size, int Bytes)[] BuildTable()
    {
        var t = new (int, int)[(int)GgmlType.MXFP4 + 1];
        t[(int)GgmlType.F32] = (1, 4);
        t[(int)GgmlType.F16] = (1, 2);
        t[(int)GgmlType.Q4_0] = (32, 2 + 16);
        t[(int)GgmlType.Q4_1] = (32, 2 + 2 + 16);
        t[(int)GgmlType.Q5_0] = (32, 2 + 4 + 16);
        t[(int)GgmlType.Q5_1] = (32, 2 + 2 + 4 + 16);
        t[(int)GgmlType.Q8_0] = (32, 2 + 32);
        t[(int)GgmlType.Q8_1] = (32, 2 + 2 + 32);
        t[(int)GgmlType.Q2_K] = (256, 16 + 64 + 2 + 2);
        t[(int)GgmlType.Q3_K] = (256, 32 + 64 + 12 + 2);
        t[(int)GgmlType.Q4_K] = (256, 2 + 2 + 12 + 128);
        t[(int)GgmlType.Q5_K] = (256, 2 + 2 + 12 + 32 + 128);
        t[(int)GgmlType.Q6_K] = (256, 128 + 64 + 16 + 2);
        t[(int)GgmlType.Q8_K] = (256, 4 + 256 + 32);
        t[(int)GgmlType.IQ2_XXS] = (256, 2 + 64);
        t[(int)GgmlType.IQ2_XS] = (256, 2 + 64 + 8);
        t[(int)GgmlType.IQ3_XXS] = (256, 2 + 96);
        t[(int)GgmlType.IQ1_S] = (256, 2 + 32 + 16);
        t[(int)GgmlType.IQ4_NL] = (32, 2 + 16);
        t[(int)GgmlType.IQ3_S] = (256, 2 + 64 + 8 + 32 + 4);
        t[(int)GgmlType.IQ2_S] = (256, 2 + 64 + 8 + 8);
        t[(int)GgmlType.IQ4_XS] = (256, 2 + 2 + 4 + 128);
        t[(int)GgmlType.I8] = (1, 1);
        t[(int)GgmlType.I16] = (1, 2);
        t[(int)GgmlType.I32] = (1, 4);
        t[(int)GgmlType.I64] = (1, 8);
        t[(int)GgmlType.F64] = (1, 8);
        t[(int)GgmlType.IQ1_M] = (256, 32 + 16 + 8);
        t[(int)GgmlType.BF16] = (1, 2);
        t[(int)GgmlType.TQ1_0] = (256, 48 + 4 + 2);
        t[(int)GgmlType.TQ2_0] = (256, 64 + 2);
        t[(int)GgmlType.MXFP4] = (32, 1 + 16);
        return t;
    }

    /// <summary>True when <paramref name="type"/> is an id ggml currently defines (whether or not Fathom computes with it).</summary>
    public static bool IsKnown(GgmlType type) => (uint)type < (uint)Table.Length && Table[(int)type].Size != 0;

    /// <summary>True for the types Fathom's engine computes with: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K (and Q8_K internally).</summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K or GgmlType.Q8_K;

    /// <summary>True when the type packs several elements into a block with shared scales.</summary>
    public static bool IsQuantized(GgmlType type) => BlockSize(type) > 1;

    /// <summary>Elements per block (1 for plain element types).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not a known ggml type.</exception>
    public static int BlockSize(GgmlType type) => Get(type).Size;

    /// <summary>Bytes per block.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not a known ggml type.</exception>
    public static int BlockBytes(GgmlType type) => Get(type).Bytes;

    /// <summary>Bytes taken by <paramref name="elements"/> consecutive elements (a row).</summary>
    /// <exception cref="ArgumentException">The count is negative or not a whole number of blocks.</exception>
    /// <exception cref="OverflowException">The byte count does not fit in 64 bits.</exception>
    public static long RowBytes(GgmlType type, long elements)
    {
        var (size, bytes) = Get(type);
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        if (elements % size != 0)
        {
            throw new ArgumentException($"{elements} elements of {type} is not a whole number of {size}-element blocks.", nameof(elements));
        }

        return checked(elements / size * bytes);
    }

    private static (int Size, int Bytes) Get(GgmlType type)
    {
        if (!IsKnown(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, $"Unknown ggml type id {(uint)type}.");
        }

        return Table[(int)type];
    }
}
