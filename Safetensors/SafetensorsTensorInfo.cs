namespace Fathom.Safetensors;

/// <summary>
/// One tensor of a safetensors file: name, dtype, shape (row-major, outermost first, as PyTorch writes it) and
/// byte range relative to the data section that follows the header.
/// </summary>
/// <param name="Name">Tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Sizes, outermost first; empty for a scalar.</param>
/// <param name="Begin">First byte, relative to the data section.</param>
/// <param name="End">One past the last byte, relative to the data section.</param>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <summary>Bytes of the tensor's data.</summary>
    public long ByteSize => End - Begin;

    /// <summary>Shape as text, outermost first, e.g. <c>[512, 64]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
