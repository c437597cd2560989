using Fathom.Gguf;

namespace Fathom.Engine.Model;

/// <summary>
/// One weight tensor as the loader sees it, whatever file it came from: GGUF name and dimension order
/// (<c>ne0</c>, the contiguous one, first), element type and a pointer into its file's mapping; plus the name and
/// file it has on disk, so that errors name what the user can find.
/// </summary>
internal sealed unsafe class ModelTensor
{
    public ModelTensor(string name, GgmlType type, long[] dimensions, byte* data, long byteSize, string sourceName, string filePath)
    {
        Name = name;
        Type = type;
        Dimensions = dimensions;
        Data = data;
        ByteSize = byteSize;
        SourceName = sourceName;
        FilePath = filePath;
    }

    /// <summary>GGUF name, e.g. <c>blk.0.attn_q.weight</c>.</summary>
    public string Name { get; }

    public GgmlType Type { get; }

    /// <summary>Sizes, innermost first (<c>[ne0, ne1, ...]</c>).</summary>
    public long[] Dimensions { get; }

    /// <summary>First byte, in the file's mapping.</summary>
    public byte* Data { get; }

    public long ByteSize { get; }

    /// <summary>The name in the file (<c>model.layers.0.self_attn.q_proj.weight</c> in a safetensors checkpoint).</summary>
    public string SourceName { get; }

    /// <summary>The file that holds the tensor.</summary>
    public string FilePath { get; }

    public long ElementCount => Dimensions.Aggregate(1L, (n, d) => n * d);

    /// <summary>Shape as the file writes it: innermost first for GGUF, outermost first for safetensors.</summary>
    public string ShapeText => "[" + string.Join(", ", SourceName == Name ? Dimensions : Dimensions.Reverse()) + "]";

    /// <summary>The same tensor's shape for dimensions given innermost first, written as the file writes shapes.</summary>
    public string ShapeTextOf(params long[] dimensions) => "[" + string.Join(", ", SourceName == Name ? dimensions : dimensions.Reverse()) + "]";
}
