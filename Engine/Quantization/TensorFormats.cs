using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>Dispatch over <see cref="GgmlType"/> for the formats Fathom supports.</summary>
public static class TensorFormats
{
    /// <summary>The GGUF tensor types this engine can dequantize, quantize and multiply.</summary>
    public static IReadOnlyList<GgmlType> Supported { get; } =
        [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

    /// <summary>Dequantizes one row of <paramref name="n"/> elements of <paramref name="type"/>.</summary>
    /// <exception cref="NotSupportedException">The type is not one Fathom implements.</exception>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        switch (type)
        {
            case GgmlType.F32: F32.Dequantize(source, destination, n); break;
            case GgmlType.F16: F16.Dequantize(source, destination, n); break;
            case GgmlType.BF16: BF16.Dequantize(source, destination, n); break;
            case GgmlType.Q8_0: Q8_0.Dequantize(source, destination, n); break;
            case GgmlType.Q4_0: Q4_0.Dequantize(source, destination, n); break;
            case GgmlType.Q4_K: Q4K.Dequantize(source, destination, n); break;
            case GgmlType.Q6_K: Q6K.Dequantize(source, destination, n); break;
            case GgmlType.Q8_K: Q8K.Dequantize(source, destination, n); break;
            default: throw Unsupported(type);
        }
    }

    /// <summary>Quantizes one row of <paramref name="n"/> floats to <paramref name="type"/> as llama.cpp's reference quantizers do.</summary>
    /// <exception cref="NotSupportedException">The type is not one Fathom implements.</exception>
    public static void QuantizeRow(GgmlType type, ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        switch (type)
        {
            case GgmlType.F32: F32.Quantize(source, destination, n); break;
            case GgmlType.F16: F16.Quantize(source, destination, n); break;
            case GgmlType.BF16: BF16.Quantize(source, destination, n); break;
            case GgmlType.Q8_0: Q8_0.Quantize(source, destination, n); break;
            case GgmlType.Q4_0: Q4_0.Quantize(source, destination, n); break;
            case GgmlType.Q4_K: Q4K.Quantize(source, destination, n); break;
            case GgmlType.Q6_K: Q6K.Quantize(source, destination, n); break;
            case GgmlType.Q8_K: Q8K.Quantize(source, destination, n); break;
            default: throw Unsupported(type);
        }
    }

    /// <summary>Bytes of one row of <paramref name="n"/> elements of <paramref name="type"/>.</summary>
    /// <exception cref="NotSupportedException">The type is not one Fathom implements.</exception>
    public static long RowBytes(GgmlType type, long n) => type switch
    {
        GgmlType.F32 => F32.RowBytes(n),
        GgmlType.F16 => F16.RowBytes(n),
        GgmlType.BF16 => BF16.RowBytes(n),
        GgmlType.Q8_0 => Q8_0.RowBytes(n),
        GgmlType.Q4_0 => Q4_0.RowBytes(n),
        GgmlType.Q4_K => Q4K.RowBytes(n),
        GgmlType.Q6_K => Q6K.RowBytes(n),
        GgmlType.Q8_K => Q8K.RowBytes(n),
        _ => throw Unsupported(type),
    };

    private static NotSupportedException Unsupported(GgmlType type) =>
        new($"Tensor type {type} ({(uint)type}) is not supported by Fathom; supported: {string.Join(", ", Supported)}.");
}
