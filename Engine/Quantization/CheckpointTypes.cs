using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Engine-private weight types for checkpoint layouts GGUF has no type for, repacked at load into
/// <see cref="Fp8Rows"/> or <see cref="Int4ZeroPoint"/>. They travel in the same <see cref="GgmlType"/> slot as the
/// GGUF types (so every backend dispatches on one value) with ids far above ggml's, and are never written to a file.
/// </summary>
public static class CheckpointTypes
{
    /// <summary>FP8 e4m3 rows with one f32 scale each (<see cref="Quantization.Fp8Rows"/>).</summary>
    public const GgmlType Fp8Rows = (GgmlType)0x1000;

    /// <summary>4-bit blocks of 32 with an f16 scale and a zero point (<see cref="Quantization.Int4ZeroPoint"/>).</summary>
    public const GgmlType Int4ZeroPoint = (GgmlType)0x1001;

    /// <summary>Whether <paramref name="type"/> is one of these engine-private types.</summary>
    public static bool Contains(GgmlType type) => type is Fp8Rows or Int4ZeroPoint;

    /// <summary>A name for logs and errors: <c>fp8-e4m3-rows</c>, <c>int4-zero-point</c>, or the GGUF name.</summary>
    public static string Name(GgmlType type) => type switch
    {
        Fp8Rows => "fp8-e4m3-rows",
        Int4ZeroPoint => "int4-zero-point",
        _ => type.ToString(),
    };

    /// <summary>Bytes of one row of <paramref name="n"/> elements, for these types and every GGUF type.</summary>
    public static long RowBytes(GgmlType type, long n) => type switch
    {
        Fp8Rows => Quantization.Fp8Rows.RowBytes(n),
        Int4ZeroPoint => Quantization.Int4ZeroPoint.RowBytes(n),
        _ => GgmlTypeTraits.RowBytes(type, n),
    };

    /// <summary>Elements per block: the row width must be a multiple of it.</summary>
    public static int BlockSize(GgmlType type) => type switch
    {
        Fp8Rows => 1,
        Int4ZeroPoint => Quantization.Int4ZeroPoint.BlockSize,
        _ => GgmlTypeTraits.BlockSize(type),
    };

    /// <summary>Decodes one row with the SIMD kernels (exactly the scalar reference's values).</summary>
    /// <exception cref="NotSupportedException"><paramref name="type"/> is not one of these types.</exception>
    public static unsafe void DecodeRow(GgmlType type, byte* row, Span<float> output)
    {
        fixed (float* y = output)
        {
            switch (type)
            {
                case Fp8Rows: Quantization.Fp8Rows.Decode(row, y, output.Length); break;
                case Int4ZeroPoint: Quantization.Int4ZeroPoint.Decode(row, y, output.Length); break;
                default: throw new NotSupportedException($"{type} is not an engine checkpoint type");
            }
        }
    }

    /// <summary>The scalar reference decode of one row (the oracle of the SIMD and device kernels).</summary>
    /// <exception cref="NotSupportedException"><paramref name="type"/> is not one of these types.</exception>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> row, Span<float> output, int n)
    {
        switch (type)
        {
            case Fp8Rows: Quantization.Fp8Rows.Dequantize(row, output, n); break;
            case Int4ZeroPoint: Quantization.Int4ZeroPoint.Dequantize(row, output, n); break;
            default: throw new NotSupportedException($"{type} is not an engine checkpoint type");
        }
    }
}
