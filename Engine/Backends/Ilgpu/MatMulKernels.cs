using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// <c>output (rows, n) = input (rows, k) · Wᵀ</c> with W in its GGUF layout (F32, F16, BF16, Q8_0, Q4_0, Q4_K,
/// Q6_K). One warp per output column (weight row), several warps per group; the lanes stride the row so
/// neighbouring lanes read neighbouring bytes, and each decoded weight is used for up to four input rows before
/// the next is loaded. Partial sums are f32 per lane, combined with a warp reduction.
/// </summary>
internal sealed class MatMulKernels
{
    private const int WarpsPerGroup = 4;

    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<byte>, MatMulShape, ArrayView<float>> _matMul;
    private readonly int _warpSize;

    public MatMulKernels(Accelerator accelerator)
    {
        _warpSize = accelerator.WarpSize;
        _matMul = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<byte>, MatMulShape, ArrayView<float>>(MatMulKernel);
    }

    /// <summary>Weight type (<see cref="WeightDecode"/> constants), k = input width, n = weight rows, row stride in bytes.</summary>
    internal readonly record struct MatMulShape(int Type, int K, int N, long RowBytes);

    // ---- kernels ----

    /// <summary>Grid: (ceil(n / warps per group)); group: warps per group × warp size.</summary>
    internal static void MatMulKernel(ArrayView<float> input, int rows, ArrayView<byte> weight, MatMulShape shape, ArrayView<float> output)
    {
        var column = (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;
        if (column >= shape.N)
        {
            return;
        }

        var k = shape.K;
        var rowStart = column * shape.RowBytes;
        for (var r0 = 0; r0 < rows; r0 += 4)
        {
            var x0 = (long)r0 * k;
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            var take = rows - r0;
            for (var i = Warp.LaneIdx; i < k; i += Warp.WarpSize)
            {
                var w = WeightDecode.Element(weight, shape.Type, rowStart, i);
                a0 += w * input[x0 + i];
                if (take > 1)
                {
                    a1 += w * input[x0 + k + i];
                    if (take > 2)
                    {
                        a2 += w * input[x0 + (2 * k) + i];
                        if (take > 3)
                        {
                            a3 += w * input[x0 + (3 * k) + i];
                        }
                    }
                }
            }

            a0 = WarpExtensions.Reduce<float, AddFloat>(a0);
            a1 = WarpExtensions.Reduce<float, AddFloat>(a1);
            a2 = WarpExtensions.Reduce<float, AddFloat>(a2);
            a3 = WarpExtensions.Reduce<float, AddFloat>(a3);
            if (Warp.IsFirstLane)
            {
                var o = ((long)r0 * shape.N) + column;
                output[o] = a0;
                if (take > 1)
                {
                    output[o + shape.N] = a1;
                }

                if (take > 2)
                {
                    output[o + (2L * shape.N)] = a2;
                }

                if (take > 3)
                {
                    output[o + (3L * shape.N)] = a3;
                }
            }
        }
    }

    // ---- launchers ----

    public void MatMul(ArrayView<float> input, int rows, ArrayView<byte> weight, MatMulShape shape, ArrayView<float> output) =>
        _matMul(new KernelConfig((shape.N + WarpsPerGroup - 1) / WarpsPerGroup, WarpsPerGroup * _warpSize), input, rows, weight, shape, output);
}
