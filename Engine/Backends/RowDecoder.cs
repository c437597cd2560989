using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Backends;

/// <summary>Converts one stored row of a weight tensor to f32 (exact for every supported type).</summary>
internal static unsafe class RowDecoder
{
    [ThreadStatic]
    private static float[]? t_reordered;

    /// <summary>Row <paramref name="row"/> of <paramref name="w"/> in logical column order.</summary>
    public static void Decode(WeightMatrix w, int row, Span<float> output)
    {
        if (w.ColumnOrder is not { } order)
        {
            Decode(w.Type, w.Row(row), output);
            return;
        }

        var stored = t_reordered is { } b && b.Length >= output.Length ? b : t_reordered = new float[output.Length];
        Decode(w.Type, w.Row(row), stored.AsSpan(0, output.Length));
        for (var i = 0; i < order.Length; i++)
        {
            output[order[i]] = stored[i];
        }
    }

    public static void Decode(GgmlType type, byte* row, Span<float> output)
    {
        switch (type)
        {
            case GgmlType.F32:
                new ReadOnlySpan<float>(row, output.Length).CopyTo(output);
                break;
            case GgmlType.F16:
                fixed (float* y = output)
                {
                    HalfConversion.HalfToSingle((ushort*)row, y, output.Length);
                }

                break;
            case GgmlType.BF16:
                fixed (float* y = output)
                {
                    HalfConversion.BFloat16ToSingle((ushort*)row, y, output.Length);
                }

                break;
            case GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K:
                var bytes = (int)TensorFormats.RowBytes(type, output.Length);
                TensorFormats.DequantizeRow(type, new ReadOnlySpan<byte>(row, bytes), output, output.Length);
                break;
            case CheckpointTypes.Fp8Rows or CheckpointTypes.Int4ZeroPoint:
                CheckpointTypes.DecodeRow(type, row, output);
                break;
            default:
                throw new NotSupportedException($"weights of type {type} are not supported yet");
        }
    }

    /// <summary>Weight types any backend can run (quantized ones dequantized exactly, block by block).</summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K
        or CheckpointTypes.Fp8Rows or CheckpointTypes.Int4ZeroPoint;

    /// <summary>Float types (no block structure): what norm and bias vectors may be stored as.</summary>
    public static bool IsFloat(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;
}
