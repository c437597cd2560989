using System.Runtime.InteropServices;
using Fathom.Engine.Backends;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// A random weight matrix in any type the ILGPU kernels read (quantized ones through the engine's quantizers), in
/// unmanaged memory like a mapped file, with its exact decoded values for the oracle.
/// </summary>
internal sealed unsafe class QuantizedWeight : IDisposable
{
    private readonly byte* _data;

    public QuantizedWeight(GgmlType type, int columns, int rows, Random random, float scale = 1f)
    {
        var rowBytes = CheckpointTypes.RowBytes(type, columns);
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * rows), 64);
        Bytes = new byte[rowBytes * rows];
        Values = new float[rows * columns];
        var row = new float[columns];
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < columns; i++)
            {
                row[i] = (float)((random.NextDouble() * 2) - 1) * scale;
            }

            var bytes = Bytes.AsSpan((int)(r * rowBytes), (int)rowBytes);
            Encode(type, row, bytes);
            Decode(type, bytes, Values.AsSpan(r * columns, columns));
        }

        Bytes.CopyTo(new Span<byte>(_data, Bytes.Length));
        Matrix = new WeightMatrix("test", type, _data, columns, rows);
    }

    public WeightMatrix Matrix { get; }

    /// <summary>The stored bytes. // (rows, row_bytes)</summary>
    public byte[] Bytes { get; }

    /// <summary>The stored values, decoded on the host. // (rows, columns)</summary>
    public float[] Values { get; }

    public static void Encode(GgmlType type, ReadOnlySpan<float> row, Span<byte> bytes)
    {
        switch (type)
        {
            case GgmlType.Q8_0: Q8_0.Quantize(row, bytes, row.Length); break;
            case GgmlType.Q4_0: Q4_0.Quantize(row, bytes, row.Length); break;
            case GgmlType.Q4_K: Q4K.Quantize(row, bytes, row.Length); break;
            case GgmlType.Q6_K: Q6K.Quantize(row, bytes, row.Length); break;
            case CheckpointTypes.Fp8Rows: Fp8Rows.Quantize(row, bytes, row.Length); break;
            case CheckpointTypes.Int4ZeroPoint: Quantization.CheckpointLayoutTests.Int4Blocks(row, bytes, new Random(row.Length)); break;
            default: TensorEncoding.Encode(type, row).CopyTo(bytes); break;
        }
    }

    public static void Decode(GgmlType type, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        switch (type)
        {
            case GgmlType.Q8_0: Q8_0.Dequantize(bytes, values, values.Length); break;
            case GgmlType.Q4_0: Q4_0.Dequantize(bytes, values, values.Length); break;
            case GgmlType.Q4_K: Q4K.Dequantize(bytes, values, values.Length); break;
            case GgmlType.Q6_K: Q6K.Dequantize(bytes, values, values.Length); break;
            case CheckpointTypes.Fp8Rows or CheckpointTypes.Int4ZeroPoint: CheckpointTypes.DequantizeRow(type, bytes, values, values.Length); break;
            default:
                fixed (byte* p = bytes)
                {
                    RowDecoder.Decode(type, p, values);
                }

                break;
        }
    }

    public void Dispose() => NativeMemory.AlignedFree(_data);
}
