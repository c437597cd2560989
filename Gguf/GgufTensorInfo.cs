namespace Fathom.Gguf;

/// <summary>
/// Where and what one tensor is: its name, element type, dimensions (<c>ne0</c> first: the innermost,
/// contiguous one) and byte offset relative to the start of the data section.
/// </summary>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Type">Element type.</param>
/// <param name="Dimensions">Sizes, innermost first (<c>[ne0, ne1, ...]</c>).</param>
/// <param name="Offset">Offset of the first byte relative to the data section.</param>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Dimensions, ulong Offset)
{
    /// <summary>Total number of elements (the product of the dimensions).</summary>
    public long ElementCount { get; } = Product(Dimensions);

    /// <summary>Bytes the tensor occupies in the data section.</summary>
    public long ByteSize => Rows * GgmlTypeTraits.RowBytes(Type, Dimensions[0]);

    /// <summary>Number of rows of <c>ne0</c> elements.</summary>
    public long Rows => ElementCount / Dimensions[0];

    /// <summary>Number of elements in a row (<c>ne0</c>).</summary>
    public long RowLength => Dimensions[0];

    /// <summary>Shape as text, innermost first, e.g. <c>[64, 512]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions) + "]";

    private static long Product(long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0)
        {
            throw new ArgumentException("A tensor needs at least one dimension.", nameof(dims));
        }

        long n = 1;
        foreach (var d in dims)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(d, nameof(dims));
            n = checked(n * d);
        }

        return n;
    }
}
