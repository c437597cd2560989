using System.Buffers.Binary;

namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>Checks and element reads shared by the published-format readers, so every format reports bad tensors alike.</summary>
internal static class PublishedTensor
{
    public static CheckpointTensor Require(Func<string, CheckpointTensor?> find, string name) =>
        find(name) ?? throw new QuantizedCheckpointException(name, "tensor", "is missing");

    public static void Expect(CheckpointTensor t, string dtype, params long[] shape)
    {
        if (t.DType != dtype)
        {
            throw new QuantizedCheckpointException(t.Name, "dtype", $"is {t.DType}, expected {dtype}");
        }

        ExpectShape(t, shape);
    }

    public static void ExpectShape(CheckpointTensor t, params long[] shape)
    {
        if (!t.Shape.SequenceEqual(shape))
        {
            throw new QuantizedCheckpointException(t.Name, "shape", $"is {t.ShapeText}, expected [{string.Join(", ", shape)}]");
        }

        var bytes = t.ElementCount * ElementBytes(t.DType);
        if (t.ByteLength != bytes)
        {
            throw new QuantizedCheckpointException(t.Name, "data", $"holds {t.ByteLength} bytes, but {t.ShapeText} of {t.DType} is {bytes}");
        }
    }

    public static int ElementBytes(string dtype) => dtype switch
    {
        "F8_E4M3" or "U8" or "I8" => 1,
        "F16" or "BF16" => 2,
        "F32" or "I32" or "U32" => 4,
        _ => throw new QuantizedCheckpointException(dtype, "dtype", "is not a dtype the quantized formats use"),
    };

    public static uint Word(ReadOnlySpan<byte> bytes, long index) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[checked((int)(index * 4))..]);

    public static ushort Half(ReadOnlySpan<byte> bytes, long index) => BinaryPrimitives.ReadUInt16LittleEndian(bytes[checked((int)(index * 2))..]);

    /// <summary>Element <paramref name="index"/> of an F32, F16 or BF16 tensor as f32 (exact).</summary>
    public static float Float(CheckpointTensor t, long index) => t.DType switch
    {
        "F32" => BinaryPrimitives.ReadSingleLittleEndian(t.Bytes[checked((int)(index * 4))..]),
        "F16" => (float)BitConverter.UInt16BitsToHalf(Half(t.Bytes, index)),
        "BF16" => BitConverter.Int32BitsToSingle(Half(t.Bytes, index) << 16),
        _ => throw new QuantizedCheckpointException(t.Name, "dtype", $"is {t.DType}, expected F32, F16 or BF16"),
    };

    public static byte[] Pinned(long bytes) => GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
}
