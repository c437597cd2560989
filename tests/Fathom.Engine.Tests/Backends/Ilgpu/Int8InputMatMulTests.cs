using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Backends.Ilgpu;
using Fathom.Gguf;
using ILGPU.Runtime;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The warp-per-row Q8_0, Q4_0 and Q4_K kernels with the input quantized to int8 once per launch and dp4a (emulated off
/// CUDA), on 32-lane and 4-lane CPU accelerators: against the exact dot with the same int8 input (tight, so a wrong
/// word, nibble, scale or min shows) and against <see cref="CpuBackend"/> (which quantizes its activations too).
/// </summary>
public sealed class Int8InputMatMulTests(Warp32CpuDevice warp32, Warp4CpuDevice warp4) : IClassFixture<Warp32CpuDevice>, IClassFixture<Warp4CpuDevice>
{
    private const double U = 1.0 / (1 << 24);

    public static TheoryData<GgmlType, int, bool> Cases => new()
    {
        // k = 96: Q8_0 / Q4_0 blocks of 34 / 18 bytes start on 2-byte boundaries; Q4_K two superblocks.
        { GgmlType.Q8_0, 96, true },
        { GgmlType.Q8_0, 96, false },
        { GgmlType.Q4_0, 96, true },
        { GgmlType.Q4_0, 96, false },
        { GgmlType.Q4_K, 512, true },
        { GgmlType.Q4_K, 512, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Int8_input_dp4a_matches_the_exact_dot_of_the_quantized_input_and_the_cpu_backend(GgmlType type, int k, bool thirtyTwoLanes)
    {
        const int N = 9;
        var random = new Random((int)type + k);
        using var w = new QuantizedWeight(type, k, N, random);
        foreach (var rows in new[] { 1, 6 })
        {
            var x = IlgpuKernelTests.RandomArray(random, rows * k, 3f);
            x[0] = 0f; // a zero and an all-zero block: scale 0 must give 0, not NaN
            Array.Clear(x, 32, Math.Min(32, x.Length - 32));
            var kernels = thirtyTwoLanes ? warp32.MatMul : warp4.Device.MatMul;
            var accelerator = thirtyTwoLanes ? warp32.Accelerator : warp4.Device.Accelerator;
            kernels.Int8Input = true;
            float[] actual;
            try
            {
                actual = Run(accelerator, kernels, x, rows, w);
            }
            finally
            {
                kernels.Int8Input = false;
            }

            var cpu = new float[rows * N];
            using (var backend = new CpuBackend(1))
            {
                backend.MatMul(x, rows, new MatMulTarget(w.Matrix, cpu));
            }

            var quantized = QuantizeLikeTheKernel(x);
            for (var r = 0; r < rows; r++)
            {
                for (var j = 0; j < N; j++)
                {
                    double exact = 0, magnitude = 0, weights = 0, xMax = 0, wMax = 0;
                    for (var i = 0; i < k; i++)
                    {
                        wMax = Math.Max(wMax, Math.Abs(w.Values[(j * k) + i]));
                    }

                    for (var i = 0; i < k; i++)
                    {
                        var xi = quantized[(r * k) + i];
                        var wi = w.Values[(j * k) + i];
                        exact += (double)xi * wi;

                        // Q4_K's d·sc·q − dmin·m cancels: its rounding scales with both terms (each below 2·max|w|).
                        magnitude += Math.Abs(xi) * (Math.Abs(wi) + (type == GgmlType.Q4_K ? 4 * wMax : 0));
                        weights += Math.Abs(wi);
                        xMax = Math.Max(xMax, Math.Abs(x[(r * k) + i]));
                    }

                    var a = actual[(r * N) + j];
                    Assert.True(Math.Abs(a - exact) <= ((k + 8) * U * magnitude) + 1e-30, $"{type} rows {rows} [{r},{j}]: {a} vs exact-with-int8-input {exact}");
                    Assert.True(Math.Abs(a - cpu[(r * N) + j]) <= (weights * xMax / 127) + 1e-5, $"{type} rows {rows} [{r},{j}]: {a} vs cpu {cpu[(r * N) + j]}");
                }
            }
        }
    }

    [Fact]
    public void Int8_input_is_not_used_for_other_types()
    {
        // F16 keeps the f32 input: same bits with the switch on and off.
        const int K = 64, N = 5, Rows = 3;
        var random = new Random(9);
        using var w = new QuantizedWeight(GgmlType.F16, K, N, random);
        var x = IlgpuKernelTests.RandomArray(random, Rows * K);
        var kernels = warp32.MatMul;
        var off = Run(warp32.Accelerator, kernels, x, Rows, w);
        kernels.Int8Input = true;
        try
        {
            Assert.Equal(off, Run(warp32.Accelerator, kernels, x, Rows, w));
        }
        finally
        {
            kernels.Int8Input = false;
        }
    }

    /// <summary>x with each 32-block replaced by d·q, d = max|x| / 127, q = round-to-even(x · 127 / max), in f32 as the kernel does.</summary>
    private static float[] QuantizeLikeTheKernel(float[] x)
    {
        var result = new float[x.Length];
        for (var b = 0; b < x.Length / 32; b++)
        {
            var max = 0f;
            for (var i = 0; i < 32; i++)
            {
                max = Math.Max(max, Math.Abs(x[(32 * b) + i]));
            }

            var d = max / 127f;
            var inverse = max > 0f ? 127f / max : 0f;
            for (var i = 0; i < 32; i++)
            {
                result[(32 * b) + i] = d * MathF.Round(x[(32 * b) + i] * inverse, MidpointRounding.ToEven);
            }
        }

        return result;
    }

    private static float[] Run(Accelerator accelerator, MatMulKernels kernels, float[] x, int rows, QuantizedWeight w)
    {
        var k = w.Matrix.Columns;
        var n = w.Matrix.Rows;
        using var input = accelerator.Allocate1D(x);
        var padded = new byte[MatMulKernels.PaddedBytes(w.Bytes.Length)];
        w.Bytes.CopyTo(padded, 0);
        using var weight = accelerator.Allocate1D(padded);
        using var output = accelerator.Allocate1D<float>(rows * n);
        var shape = new MatMulKernels.MatMulShape((int)w.Matrix.Type, k, n, w.Matrix.RowBytes);
        Assert.False(kernels.UsesTensorCores(rows, shape));
        kernels.MatMul(input.View, rows, weight.View, shape, output.View);
        return output.GetAsArray1D();
    }
}
