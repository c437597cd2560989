using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Backends.Ilgpu;
using Fathom.Gguf;
using ILGPU.Runtime;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The tensor-core matmul (tiles dequantized into shared memory, <c>mma.sync</c> m16n8k16 emulated per the PTX ISA's
/// fragment mapping) on ILGPU's CPU accelerator with a 32-lane warp, at shapes that are not multiples of the tiles:
/// against an exact oracle on the 16-bit-rounded operands (tight: any fragment, tile or index mistake shows), and
/// against <see cref="CpuBackend"/> on the original operands (bounded by the 16-bit rounding of both operands plus
/// the CPU backend's own int8 activation rounding).
/// </summary>
public sealed class TensorCoreMatMulTests(Warp32CpuDevice fixture) : IClassFixture<Warp32CpuDevice>
{
    private const double U = 1.0 / (1 << 24);

    public static TheoryData<GgmlType, int, int, int> Shapes => new()
    {
        // type, k, n (weight rows), rows (tokens): n not a multiple of 8 or 32, rows not of 16 or 64, k slices cut short.
        { GgmlType.F16, 50, 37, 19 },
        { GgmlType.BF16, 96, 13, 70 },
        { GgmlType.Q8_0, 96, 37, 70 },
        { GgmlType.Q8_0, 64, 9, 1 },
        { GgmlType.Q4_K, 256, 11, 17 },
        { GgmlType.Q6_K, 256, 9, 23 },
        { GgmlType.Q4_0, 96, 10, 33 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Tiled_mma_matches_the_rounded_exact_dots_and_the_cpu_backend(GgmlType type, int k, int n, int rows)
    {
        var random = new Random((k * 31) + n + rows);
        using var w = new QuantizedWeight(type, k, n, random);
        var x = IlgpuKernelTests.RandomArray(random, rows * k);
        var actual = Run(x, rows, w, MatMulKernels.Store, null, null);

        var cpu = new float[rows * n];
        using (var backend = new CpuBackend(1))
        {
            backend.MatMul(x, rows, new MatMulTarget(w.Matrix, cpu));
        }

        var bf16 = type == GgmlType.BF16;
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < n; j++)
            {
                var (exact, bound) = RoundedDot(x, r, w, j, k, bf16);
                var i = (r * n) + j;
                Assert.True(Math.Abs(actual[i] - exact) <= bound, $"{type} [{r},{j}]: {actual[i]} vs rounded-exact {exact} (bound {bound})");
                Assert.True(Math.Abs(actual[i] - cpu[i]) <= CpuBound(x, r, w, j, k, bf16), $"{type} [{r},{j}]: {actual[i]} vs cpu {cpu[i]}");
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.F16)]
    public void Tiled_mma_epilogues_accumulate_and_swiglu(GgmlType type)
    {
        const int K = 64, N = 21, Rows = 18;
        var random = new Random((int)type + 5);
        using var gate = new QuantizedWeight(type, K, N, random);
        using var up = new QuantizedWeight(type, K, N, random);
        var x = IlgpuKernelTests.RandomArray(random, Rows * K);
        var residual = IlgpuKernelTests.RandomArray(random, Rows * N);
        var accumulated = Run(x, Rows, gate, MatMulKernels.Accumulate, null, residual);
        var gated = Run(x, Rows, gate, MatMulKernels.SwiGlu, up, null);
        for (var r = 0; r < Rows; r++)
        {
            for (var j = 0; j < N; j++)
            {
                var i = (r * N) + j;
                var (g, gBound) = RoundedDot(x, r, gate, j, K, false);
                var (u, uBound) = RoundedDot(x, r, up, j, K, false);
                Assert.True(Math.Abs(accumulated[i] - (residual[i] + g)) <= gBound + (2 * U * Math.Abs(residual[i] + g)), $"accumulate [{r},{j}]");
                var silu = g / (1 + Math.Exp(-g));
                var bound = (1.1 * Math.Abs(u) * gBound) + (Math.Abs(silu) * uBound) + (16 * U * Math.Abs(silu * u)) + 1e-30;
                Assert.True(Math.Abs(gated[i] - (silu * u)) <= 2 * bound, $"swiglu [{r},{j}]: {gated[i]} vs {silu * u}");
            }
        }
    }

    [Fact]
    public void Tiled_mma_three_projections_keep_their_segments()
    {
        // Q, K, V of 37, 8 and 5 rows: column tiles of 32 never straddle a segment, each output gets only its rows.
        const int K = 64, Rows = 20;
        var random = new Random(77);
        using var q = new QuantizedWeight(GgmlType.Q8_0, K, 37, random);
        using var kw = new QuantizedWeight(GgmlType.Q8_0, K, 8, random);
        using var v = new QuantizedWeight(GgmlType.Q8_0, K, 5, random);
        var x = IlgpuKernelTests.RandomArray(random, Rows * K);
        using var input = fixture.Upload(x);
        using var qb = fixture.Upload(Padded(q.Bytes));
        using var kb = fixture.Upload(Padded(kw.Bytes));
        using var vb = fixture.Upload(Padded(v.Bytes));
        using var qo = fixture.Accelerator.Allocate1D<float>(Rows * 37);
        using var ko = fixture.Accelerator.Allocate1D<float>(Rows * 8);
        using var vo = fixture.Accelerator.Allocate1D<float>(Rows * 5);
        var kernels = fixture.MatMul;
        kernels.TensorCoreMinRows = 16;
        var shape = new MatMulKernels.MatMulShape((int)GgmlType.Q8_0, K, 0, q.Matrix.RowBytes);
        Assert.True(kernels.UsesTensorCores(Rows, shape));
        kernels.MatMul3(input.View, Rows, shape, (qb.View, 37, qo.View), (kb.View, 8, ko.View), (vb.View, 5, vo.View));
        Assert.Equal(Run(x, Rows, q, MatMulKernels.Store, null, null), qo.GetAsArray1D());
        Assert.Equal(Run(x, Rows, kw, MatMulKernels.Store, null, null), ko.GetAsArray1D());
        Assert.Equal(Run(x, Rows, v, MatMulKernels.Store, null, null), vo.GetAsArray1D());
    }

    [Fact]
    public void Shape_decides_between_tensor_cores_and_warp_per_row()
    {
        var kernels = fixture.MatMul;
        kernels.TensorCoreMinRows = 16;
        var q8 = new MatMulKernels.MatMulShape((int)GgmlType.Q8_0, 64, 8, 68);
        Assert.False(kernels.UsesTensorCores(15, q8));
        Assert.True(kernels.UsesTensorCores(16, q8));
        Assert.False(kernels.UsesTensorCores(64, q8 with { Type = (int)GgmlType.F32 }));
    }

    [Fact]
    public void Software_half_and_bfloat16_rounding_is_round_to_nearest_even()
    {
        var random = new Random(3);
        float[] special = [0f, -0f, 65504f, 65520f, 65519.99f, 6.1035156e-05f, 5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f, 1e-9f, float.PositiveInfinity, 1.00048828125f, 1.00146484375f];
        foreach (var value in special.Concat(Enumerable.Range(0, 20000).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-30, 18))))))
        {
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)value), (ushort)TensorCoreMma.SingleToHalfBits(value));
            var bf = (uint)BitConverter.SingleToInt32Bits(value);
            var expected = (bf + 0x7FFF + ((bf >> 16) & 1)) >> 16;
            Assert.Equal(expected, TensorCoreMma.SingleToBFloat16Bits(value));
        }
    }

    private float[] Run(float[] x, int rows, QuantizedWeight w, int epilogue, QuantizedWeight? second, float[]? initial)
    {
        var kernels = fixture.MatMul;
        kernels.TensorCoreMinRows = 1;
        var k = w.Matrix.Columns;
        var n = w.Matrix.Rows;
        using var input = fixture.Upload(x);
        using var weight = fixture.Upload(Padded(w.Bytes));
        using var up = fixture.Upload(Padded(second?.Bytes ?? [0, 0, 0, 0]));
        using var output = initial is null ? fixture.Accelerator.Allocate1D<float>(rows * n) : fixture.Upload(initial);
        var shape = new MatMulKernels.MatMulShape((int)w.Matrix.Type, k, n, w.Matrix.RowBytes, epilogue);
        Assert.True(kernels.UsesTensorCores(rows, shape));
        kernels.MatMul(input.View, rows, weight.View, shape, output.View, second is null ? default : up.View);
        return output.GetAsArray1D();
    }

    private static float Round(float value, bool bf16) =>
        bf16 ? BitConverter.Int32BitsToSingle((int)(TensorCoreMma.SingleToBFloat16Bits(value) << 16)) : (float)(Half)value;

    /// <summary>The exact dot of the 16-bit-rounded operands (what the tensor cores multiply), and the f32-sum bound.</summary>
    private static (double Exact, double Bound) RoundedDot(float[] x, int r, QuantizedWeight w, int j, int k, bool bf16)
    {
        double exact = 0, magnitude = 0;
        for (var i = 0; i < k; i++)
        {
            var term = (double)Round(x[(r * k) + i], bf16) * Round(w.Values[(j * k) + i], bf16);
            exact += term;
            magnitude += Math.Abs(term);
        }

        return (exact, ((k + 4) * U * magnitude) + 1e-30);
    }

    /// <summary>
    /// |tensor-core − CPU backend|: each operand's 16-bit rounding (relative 2^-9 for f16, 2^-8 for bf16, on both) plus
    /// the CPU backend's int8 rounding of the activations (at most max|x| / 254 per element, on quantized weights).
    /// </summary>
    private static double CpuBound(float[] x, int r, QuantizedWeight w, int j, int k, bool bf16)
    {
        double products = 0, weights = 0, xMax = 0;
        for (var i = 0; i < k; i++)
        {
            products += Math.Abs((double)x[(r * k) + i] * w.Values[(j * k) + i]);
            weights += Math.Abs(w.Values[(j * k) + i]);
            xMax = Math.Max(xMax, Math.Abs(x[(r * k) + i]));
        }

        var quantizedActivations = w.Matrix.Type is GgmlType.F16 or GgmlType.BF16 ? 0 : weights * xMax / 127;
        return ((bf16 ? 1.0 / 64 : 1.0 / 256) * products) + quantizedActivations + 1e-6;
    }

    private static byte[] Padded(byte[] bytes)
    {
        var padded = new byte[MatMulKernels.PaddedBytes(bytes.Length)];
        bytes.CopyTo(padded, 0);
        return padded;
    }
}
