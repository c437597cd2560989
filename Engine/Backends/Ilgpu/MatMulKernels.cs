using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// <c>output (rows, n) = input (rows, k) · Wᵀ</c> with W in its GGUF layout (F32, F16, BF16, Q8_0, Q4_0, Q4_K,
/// Q6_K). One warp per output column (weight row), several warps (columns) per group; the lanes read the row as
/// aligned 32-bit words, neighbouring lanes neighbouring words (<see cref="WeightDot"/>), and each decoded
/// weight is used for up to four input rows before the next is loaded (decode, rows = 1, does one product per
/// weight). Partial sums are f32 per lane, combined with a warp reduction. The epilogue is fused: plain store,
/// accumulate into the output (the residual add), or — given a second weight — SwiGLU of the two dots
/// (<c>silu(input · Gᵀ) ⊙ (input · Uᵀ)</c>, the FFN's gate and up projections in one launch).
/// </summary>
internal sealed class MatMulKernels
{
    /// <summary>Epilogue: output = dot.</summary>
    public const int Store = 0;

    /// <summary>Epilogue: output += dot (residual add fused into the projection).</summary>
    public const int Accumulate = 1;

    /// <summary>Epilogue: output = silu(dot with weight) · dot with the second weight.</summary>
    public const int SwiGlu = 2;

    private const int WarpsPerGroup = 4;

    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<uint>, ArrayView<uint>, MatMulShape, ArrayView<float>> _matMul;
    private readonly int _warpSize;

    public MatMulKernels(Accelerator accelerator)
    {
        _warpSize = accelerator.WarpSize;
        _matMul = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<uint>, ArrayView<uint>, MatMulShape, ArrayView<float>>(MatMulKernel);
    }

    /// <summary>Weight type (<see cref="WeightDecode"/> constants), k = input width, n = weight rows, row stride in bytes, epilogue.</summary>
    internal readonly record struct MatMulShape(int Type, int K, int N, long RowBytes, int Epilogue = Store);

    // ---- kernels ----

    /// <summary>
    /// Grid: (ceil(n / warps per group)); group: warps per group × warp size. // input (rows, k), weight and
    /// second (n, row_bytes) as words, output (rows, n)
    /// </summary>
    internal static void MatMulKernel(ArrayView<float> input, int rows, ArrayView<uint> weight, ArrayView<uint> second, MatMulShape shape, ArrayView<float> output)
    {
        var column = (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;
        if (column >= shape.N)
        {
            return;
        }

        var k = shape.K;
        var row = column * shape.RowBytes;
        for (var r0 = 0; r0 < rows; r0 += 4)
        {
            var x0 = (long)r0 * k;
            var take = XMath.Min(4, rows - r0);
            var a = Reduce(WeightDot.Lane(weight, shape.Type, row, input, x0, k, take, Warp.LaneIdx, Warp.WarpSize), take);
            if (shape.Epilogue == SwiGlu)
            {
                var b = Reduce(WeightDot.Lane(second, shape.Type, row, input, x0, k, take, Warp.LaneIdx, Warp.WarpSize), take);
                a.A0 = Silu(a.A0) * b.A0;
                a.A1 = Silu(a.A1) * b.A1;
                a.A2 = Silu(a.A2) * b.A2;
                a.A3 = Silu(a.A3) * b.A3;
            }

            if (Warp.IsFirstLane)
            {
                var o = ((long)r0 * shape.N) + column;
                var add = shape.Epilogue == Accumulate;
                output[o] = add ? output[o] + a.A0 : a.A0;
                if (take > 1)
                {
                    output[o + shape.N] = add ? output[o + shape.N] + a.A1 : a.A1;
                }

                if (take > 2)
                {
                    output[o + (2L * shape.N)] = add ? output[o + (2L * shape.N)] + a.A2 : a.A2;
                }

                if (take > 3)
                {
                    output[o + (3L * shape.N)] = add ? output[o + (3L * shape.N)] + a.A3 : a.A3;
                }
            }
        }
    }

    /// <summary>Warp sums of the first <paramref name="take"/> partials (take is uniform, so every lane joins the same reductions).</summary>
    private static Acc4 Reduce(Acc4 a, int take)
    {
        a.A0 = WarpExtensions.Reduce<float, AddFloat>(a.A0);
        if (take > 1)
        {
            a.A1 = WarpExtensions.Reduce<float, AddFloat>(a.A1);
        }

        if (take > 2)
        {
            a.A2 = WarpExtensions.Reduce<float, AddFloat>(a.A2);
        }

        if (take > 3)
        {
            a.A3 = WarpExtensions.Reduce<float, AddFloat>(a.A3);
        }

        return a;
    }

    /// <summary>g · sigmoid(g), in the same operation order as <see cref="ElementwiseKernels.SwiGluKernel"/>.</summary>
    private static float Silu(float g) => g / (1f + XMath.Exp(-g));

    // ---- launchers ----

    /// <summary>Runs <c>output = epilogue(input · Wᵀ)</c>; <paramref name="second"/> is the up weight for <see cref="SwiGlu"/>.</summary>
    /// <exception cref="ArgumentException">A weight view is not padded to whole 32-bit words, or k does not fill whole units.</exception>
    public void MatMul(ArrayView<float> input, int rows, ArrayView<byte> weight, MatMulShape shape, ArrayView<float> output, ArrayView<byte> second = default)
    {
        Check(weight, shape);
        if (shape.Epilogue == SwiGlu)
        {
            Check(second, shape);
        }

        var words = weight.Cast<uint>();
        var secondWords = shape.Epilogue == SwiGlu ? second.Cast<uint>() : words;
        _matMul(new KernelConfig((shape.N + WarpsPerGroup - 1) / WarpsPerGroup, WarpsPerGroup * _warpSize), input, rows, words, secondWords, shape, output);
    }

    /// <summary>Bytes to allocate for a weight of <paramref name="bytes"/> so the kernels may read it as whole words.</summary>
    public static long PaddedBytes(long bytes) => (bytes + 3) & ~3L;

    private static void Check(ArrayView<byte> weight, MatMulShape shape)
    {
        if (weight.Length % 4 != 0 || weight.Length < shape.RowBytes * shape.N)
        {
            throw new ArgumentException($"weight view of {weight.Length} bytes: needs {shape.RowBytes * shape.N} bytes padded to a multiple of 4", nameof(weight));
        }

        // F16/BF16 rows are read as 2-element words and need 4-aligned rows; the block types are whole by construction.
        if (shape.K % WeightDot.ElementsPerUnit(shape.Type) != 0 || (shape.Type is WeightDecode.F16 or WeightDecode.BF16 && shape.RowBytes % 4 != 0))
        {
            throw new ArgumentException($"k = {shape.K} is not a whole number of {WeightDot.ElementsPerUnit(shape.Type)}-element units of weight type {shape.Type}", nameof(shape));
        }
    }
}
