using System.Runtime.CompilerServices;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Matrix kernels for the CPU backend: a contiguous range of weight rows against a batch of activation rows.
/// The caller (a Parallel.For over row chunks) slices <c>weights</c> to its rows and <c>output</c> to start at its
/// first row; element (t, r) goes to <c>output[t·outputStride + r]</c>. Each weight row is read once per four
/// activation rows. Every output is computed with the same operation order as the single-row
/// <see cref="SimdDot"/> kernel, so results do not depend on batch size or on how rows are split into chunks.
/// </summary>
[SuppressMessage("Naming", "CA1707", Justification = "GGUF type names.")]
public static unsafe class QuantMatMul
{
    /// <summary>Q8_0 weights (rows × n) times Q8_0 activations (count × n).</summary>
    public static void Q8_0(ReadOnlySpan<byte> weights, int rows, int n, ReadOnlySpan<byte> activations, int count, Span<float> output, int outputStride) =>
        Quantized(weights, rows, n, activations, count, output, outputStride, Quantization.Q8_0.BlockSize, Quantization.Q8_0.BlockBytes, Quantization.Q8_0.BlockBytes, "Q8_0", "Q8_0", &DotKernels.Q8_0One, &DotKernels.Q8_0x4);

    /// <summary>Q4_0 weights (rows × n) times Q8_0 activations (count × n).</summary>
    public static void Q4_0(ReadOnlySpan<byte> weights, int rows, int n, ReadOnlySpan<byte> activations, int count, Span<float> output, int outputStride) =>
        Quantized(weights, rows, n, activations, count, output, outputStride, Quantization.Q4_0.BlockSize, Quantization.Q4_0.BlockBytes, Quantization.Q8_0.BlockBytes, "Q4_0", "Q8_0", &DotKernels.Q4_0One, &DotKernels.Q4_0x4);

    /// <summary>Q4_K weights (rows × n) times Q8_K activations (count × n).</summary>
    public static void Q4K(ReadOnlySpan<byte> weights, int rows, int n, ReadOnlySpan<byte> activations, int count, Span<float> output, int outputStride) =>
        Quantized(weights, rows, n, activations, count, output, outputStride, Quantization.Q4K.BlockSize, Quantization.Q4K.BlockBytes, Q8K.BlockBytes, "Q4_K", "Q8_K", &DotKernels.Q4KOne, &DotKernels.Q4Kx4);

    /// <summary>Q6_K weights (rows × n) times Q8_K activations (count × n).</summary>
    public static void Q6K(ReadOnlySpan<byte> weights, int rows, int n, ReadOnlySpan<byte> activations, int count, Span<float> output, int outputStride) =>
        Quantized(weights, rows, n, activations, count, output, outputStride, Quantization.Q6K.BlockSize, Quantization.Q6K.BlockBytes, Q8K.BlockBytes, "Q6_K", "Q8_K", &DotKernels.Q6KOne, &DotKernels.Q6Kx4);

    /// <summary>F32 weights (rows × n) times F32 activations (count × n).</summary>
    public static void F32(ReadOnlySpan<float> weights, int rows, int n, ReadOnlySpan<float> activations, int count, Span<float> output, int outputStride) =>
        Widened(MemoryMarshal.AsBytes(weights), GgmlType.F32, rows, n, activations, count, output, outputStride);

    /// <summary>F16 weights (rows × n, raw bytes) times F32 activations (count × n).</summary>
    public static void F16(ReadOnlySpan<byte> weights, int rows, int n, ReadOnlySpan<float> activations, int count, Span<float> output, int outputStride) =>
        Widened(weights, GgmlType.F16, rows, n, activations, count, output, outputStride);

    /// <summary>BF16 weights (rows × n, raw bytes) times F32 activations (count × n).</summary>
    public static void BF16(ReadOnlySpan<byte> weights, int rows, int n, ReadOnlySpan<float> activations, int count, Span<float> output, int outputStride) =>
        Widened(weights, GgmlType.BF16, rows, n, activations, count, output, outputStride);

    /// <summary>Float weights through <see cref="WidenedMatMul"/> (the CPU backend's kernels), after the shape checks.</summary>
    private static void Widened(ReadOnlySpan<byte> weights, GgmlType type, int rows, int n, ReadOnlySpan<float> activations, int count, Span<float> output, int outputStride)
    {
        var elementBytes = type == GgmlType.F32 ? sizeof(float) : 2;
        CheckFloat(weights.Length / elementBytes, rows, n, activations.Length, count, output.Length, outputStride, type.ToString());
        if (rows == 0 || count == 0)
        {
            return;
        }

        var panel = count < WidenedMatMul.BlockActivations ? [] : GC.AllocateUninitializedArray<float>(WidenedMatMul.BlockRows * n);
        fixed (byte* pw = weights)
        fixed (float* pa = activations, po = output, scratch = panel)
        {
            WidenedMatMul.Rows(type, pw, (long)n * elementBytes, n, 0, rows, pa, n, count, po, outputStride, scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Quantized(
        ReadOnlySpan<byte> weights, int rows, int n, ReadOnlySpan<byte> activations, int count, Span<float> output,
        int outputStride, int blockSize, int weightBlockBytes, int actBlockBytes, string weightFormat, string actFormat,
        delegate*<byte*, byte*, int, float> one, delegate*<byte*, byte*, nint, int, float*, void> four)
    {
        var nb = QuantGuard.BlockCount(n, blockSize, weightFormat);
        var wRow = (long)nb * weightBlockBytes;
        var aRow = (long)nb * actBlockBytes;
        CheckShapes(weights.Length, wRow, rows, activations.Length, aRow, count, output.Length, outputStride, weightFormat, actFormat);
        if (!DotKernels.IsSupported)
        {
            ScalarFallback(weights, rows, activations, count, output, outputStride, n, wRow, aRow, weightFormat);
            return;
        }

        float* four4 = stackalloc float[4];
        fixed (byte* pw = weights, pa = activations)
        fixed (float* po = output)
        {
            for (var r = 0; r < rows; r++)
            {
                var w = pw + (r * wRow);
                var t = 0;
                for (; t + 4 <= count; t += 4)
                {
                    four(w, pa + (t * aRow), (nint)aRow, nb, four4);
                    for (var k = 0; k < 4; k++)
                    {
                        po[((t + k) * (nint)outputStride) + r] = four4[k];
                    }
                }

                for (; t < count; t++)
                {
                    po[(t * (nint)outputStride) + r] = one(w, pa + (t * aRow), nb);
                }
            }
        }
    }

    private static void ScalarFallback(ReadOnlySpan<byte> weights, int rows, ReadOnlySpan<byte> activations, int count, Span<float> output, int outputStride, int n, long wRow, long aRow, string format)
    {
        for (var r = 0; r < rows; r++)
        {
            var w = weights.Slice((int)(r * wRow), (int)wRow);
            for (var t = 0; t < count; t++)
            {
                var a = activations.Slice((int)(t * aRow), (int)aRow);
                output[(t * outputStride) + r] = format switch
                {
                    "Q8_0" => ScalarDot.Q8_0xQ8_0(w, a, n),
                    "Q4_0" => ScalarDot.Q4_0xQ8_0(w, a, n),
                    "Q4_K" => ScalarDot.Q4KxQ8K(w, a, n),
                    _ => ScalarDot.Q6KxQ8K(w, a, n),
                };
            }
        }
    }

    private static void CheckShapes(int wLength, long wRow, int rows, int aLength, long aRow, int count, int outLength, int outputStride, string weightFormat, string actFormat)
    {
        if (rows < 0 || count < 0)
        {
            throw new ArgumentException($"{weightFormat}: rows ({rows}) and count ({count}) must not be negative.");
        }

        if (wLength < wRow * rows)
        {
            throw new ArgumentException($"{weightFormat}: weights hold {wLength} bytes but {rows} rows need {wRow * rows}.");
        }

        if (aLength < aRow * count)
        {
            throw new ArgumentException($"{actFormat}: activations hold {aLength} bytes but {count} rows need {aRow * count}.");
        }

        CheckOutput(outLength, rows, count, outputStride, weightFormat);
    }

    private static void CheckFloat(int wElements, int rows, int n, int aElements, int count, int outLength, int outputStride, string format)
    {
        QuantGuard.BlockCount(n, 1, format);
        CheckShapes(wElements, n, rows, aElements, n, count, outLength, outputStride, format, "F32");
    }

    private static void CheckOutput(int outLength, int rows, int count, int outputStride, string format)
    {
        if (count > 1 && outputStride < rows)
        {
            throw new ArgumentException($"{format}: output stride {outputStride} is smaller than the {rows} rows written per activation.");
        }

        var needed = count == 0 ? 0 : ((long)(count - 1) * outputStride) + rows;
        if (outLength < needed)
        {
            throw new ArgumentException($"{format}: output holds {outLength} floats but {needed} are needed.");
        }
    }
}
