using Fathom.Engine.Gguf;

namespace Fathom.Engine.Backends;

/// <summary>Converts one stored row of a weight tensor to f32 (exact for every supported type).</summary>
internal static unsafe class RowDecoder
{
    public static void Decode(GgmlType type, byte* row, Span<float> output)
    {
        switch (type)
        {
            case GgmlType.F32:
                new ReadOnlySpan<float>(row, output.Length).CopyTo(output);
                break;
            case GgmlType.F16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(row, output.Length), output);
                break;
            case GgmlType.BF16:
                var bf = (ushort*)row;
                for (var i = 0; i < output.Length; i++)
                {
                    output[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                }

                break;
            default:
                throw new NotSupportedException($"weights of type {type} are not supported yet");
        }
    }

    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;
}
