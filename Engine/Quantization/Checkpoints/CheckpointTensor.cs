namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>
/// One tensor of a checkpoint as its file stores it: name, dtype as safetensors spells it (<c>I32</c>, <c>F16</c>,
/// <c>BF16</c>, <c>F32</c>, <c>F8_E4M3</c>), shape outermost first, and raw little-endian bytes (memory-mapped
/// or an array). Decoupled from the file reader so the published formats can be read and written anywhere.
/// </summary>
public sealed unsafe class CheckpointTensor
{
    private readonly byte[]? _array;
    private readonly byte* _pointer;

    /// <summary>A tensor over bytes in memory the caller keeps alive (a mapped file).</summary>
    public CheckpointTensor(string name, string dtype, long[] shape, byte* data, long byteLength)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        _pointer = data;
        ByteLength = byteLength;
    }

    /// <summary>A tensor over an array.</summary>
    public CheckpointTensor(string name, string dtype, long[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Name = name;
        DType = dtype;
        Shape = shape;
        _array = data;
        ByteLength = data.Length;
    }

    /// <summary>Full tensor name, e.g. <c>model.layers.0.mlp.up_proj.qweight</c>.</summary>
    public string Name { get; }

    /// <summary>The safetensors dtype name.</summary>
    public string DType { get; }

    /// <summary>Sizes, outermost first.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Bytes of data.</summary>
    public long ByteLength { get; }

    /// <summary>The data (at most 2 GiB per tensor, as every tensor these formats split per linear layer).</summary>
    public ReadOnlySpan<byte> Bytes => _array is not null
        ? _array
        : new ReadOnlySpan<byte>(_pointer, checked((int)ByteLength));

    /// <summary>Number of elements.</summary>
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

    /// <summary>The shape as text, e.g. <c>[4096, 512]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
