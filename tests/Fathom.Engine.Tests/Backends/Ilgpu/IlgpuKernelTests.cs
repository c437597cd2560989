using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.Backends.Reference;
using Fathom.Gguf;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using ILGPU.Runtime;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// Each ILGPU kernel on ILGPU's CPU accelerator against <see cref="ReferenceBackend"/> (or exact host decoding) at
/// small shapes. Bounds as in <see cref="BackendConformanceTests"/>: a length-n f32 reduction in any order is within
/// n·u·Σ|terms| of the exact sum.
/// </summary>
public sealed class IlgpuKernelTests(IlgpuCpuDevice fixture) : IClassFixture<IlgpuCpuDevice>, IDisposable
{
    private const double U = 1.0 / (1 << 24);
    private readonly ReferenceBackend _reference = new();

    public static TheoryData<GgmlType> WeightTypes =>
        [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

    [Fact]
    public void Kernels_run_on_a_32_lane_warp() => Assert.Equal(32, fixture.Device.Accelerator.WarpSize); // the lane mappings a GPU runs

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void MatMul_reads_the_gguf_layout_and_matches_exact_dots(GgmlType type) => AssertMatMulMatchesExactDots(type);

    [Theory]
    [InlineData(0x1000)] // CheckpointTypes.Fp8Rows
    [InlineData(0x1001)] // CheckpointTypes.Int4ZeroPoint
    public void MatMul_reads_the_checkpoint_layouts_and_matches_exact_dots(int type) => AssertMatMulMatchesExactDots((GgmlType)type);

    private void AssertMatMulMatchesExactDots(GgmlType type)
    {
        // k = 512 and an awkward k whose blocks start on 2-byte boundaries (Q8_0/Q4_0 3 blocks of 34/18 bytes, Q6_K 3
        // superblocks of 210), padded to whole words.
        var isKQuant = type is GgmlType.Q4_K or GgmlType.Q6_K;
        AssertMatMulMatchesExactDots(type, new Random((int)type + 7), 512, isKQuant ? 768 : 96);
    }

    /// <summary>9 weight rows (not a multiple of the warps per group) of each k, against 1 and 6 input rows.</summary>
    private void AssertMatMulMatchesExactDots(GgmlType type, Random random, params int[] columns)
    {
        const int N = 9;
        foreach (var k in columns)
        {
            using var w = new QuantizedWeight(type, k, N, random);
            foreach (var rows in new[] { 1, 6 })
            {
                var x = RandomArray(random, rows * k);
                var actual = RunMatMul(x, rows, w, MatMulKernels.Store, null, null);
                for (var r = 0; r < rows; r++)
                {
                    for (var j = 0; j < N; j++)
                    {
                        var (exact, bound) = Dot(x, r, w, j, k);
                        Assert.True(Math.Abs(actual[(r * N) + j] - exact) <= bound, $"{type} k {k} rows {rows}, [{r},{j}]: {actual[(r * N) + j]} vs {exact}");
                    }
                }
            }
        }
    }

    /// <summary>The weight types of the GPU run's checks, at Llama-3-70B's matmul inputs: hidden 8192 and FFN 28672.</summary>
    public static TheoryData<GgmlType, int> SeventyBWidths =>
        new() { { GgmlType.Q4_K, 8192 }, { GgmlType.Q4_K, 28672 }, { GgmlType.Q6_K, 8192 }, { GgmlType.Q6_K, 28672 },
            { GgmlType.Q8_0, 8192 }, { GgmlType.Q8_0, 28672 }, { GgmlType.Q4_0, 28672 }, { GgmlType.BF16, 8192 },
            { GgmlType.BF16, 28672 }, { GgmlType.F16, 28672 } };

    /// <summary>
    /// The warp-per-row kernel at the 70B's real widths on a 32-lane warp: 28672 columns are 112 Q4_K/Q6_K
    /// super-blocks per row (3.5 per lane, so lanes end on different blocks) and 896 Q8_0 blocks, where the small
    /// shapes above give each lane at most one.
    /// </summary>
    [Theory]
    [MemberData(nameof(SeventyBWidths))]
    public void MatMul_at_the_70B_widths_matches_exact_dots(GgmlType type, int k) =>
        AssertMatMulMatchesExactDots(type, new Random(k + (int)type), k);

    /// <summary>
    /// RMSNorm over the 70B's hidden 8192, SwiGLU over its FFN 28672, the embedding of 8192-wide Q6_K rows and argmax
    /// over its 128,256-token vocabulary (a tie, and the maximum in the very last column), on a 32-lane warp.
    /// </summary>
    [Fact]
    public void Norm_swiglu_embedding_and_argmax_at_the_70B_widths()
    {
        const int Hidden = 8192, Ffn = 28672, Vocabulary = 128256;
        var random = new Random(70);
        var e = fixture.Device.Elementwise;
        var x = RandomArray(random, 2 * Hidden, 3f);
        var weight = RandomArray(random, Hidden);
        var norm = new float[x.Length];
        _reference.RmsNorm(x, 2, Hidden, weight, 1e-5f, norm);
        using var input = fixture.Upload(x);
        using var w = fixture.Upload(weight);
        using var normed = fixture.Device.Accelerator.Allocate1D<float>(x.Length);
        e.RmsNorm(input.View, 2, Hidden, w.View, 1e-5f, normed.View);
        var actualNorm = IlgpuCpuDevice.Download(normed);
        for (var i = 0; i < norm.Length; i++)
        {
            Assert.True(Math.Abs(actualNorm[i] - norm[i]) <= ((Hidden + 8) * U * Math.Abs(norm[i])) + 1e-30, $"norm {i}: {actualNorm[i]} vs {norm[i]}");
        }

        var gate = RandomArray(random, Ffn, 8);
        var up = RandomArray(random, Ffn, 2);
        var swiglu = new float[Ffn];
        _reference.SwiGlu(gate, up, Ffn, swiglu);
        using var g = fixture.Upload(gate);
        using var u = fixture.Upload(up);
        using var gated = fixture.Device.Accelerator.Allocate1D<float>(Ffn);
        e.SwiGlu(g.View, u.View, Ffn, gated.View);
        var actualSwiglu = IlgpuCpuDevice.Download(gated);
        for (var i = 0; i < Ffn; i++)
        {
            Assert.True(Math.Abs(actualSwiglu[i] - swiglu[i]) <= (16 * U * Math.Abs(swiglu[i])) + 1e-30, $"swiglu {i}: {actualSwiglu[i]} vs {swiglu[i]}");
        }

        using var table = new QuantizedWeight(GgmlType.Q6_K, Hidden, 4, random);
        int[] tokens = [3, 0, 3];
        using var bytes = fixture.Upload(table.Bytes);
        using var ids = fixture.Upload(tokens);
        using var embedded = fixture.Device.Accelerator.Allocate1D<float>(tokens.Length * Hidden);
        e.Embed(bytes.View, (int)GgmlType.Q6_K, table.Matrix.RowBytes, ids.View, tokens.Length, Hidden, embedded.View);
        var actualEmbedded = IlgpuCpuDevice.Download(embedded);
        for (var t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(table.Values.AsSpan(tokens[t] * Hidden, Hidden).ToArray(), actualEmbedded.AsSpan(t * Hidden, Hidden).ToArray());
        }

        var logits = RandomArray(random, 2 * Vocabulary);
        logits[90_001] = logits[127_000] = 7f;    // row 0: a tie, the first index wins
        logits[Vocabulary + Vocabulary - 1] = 7f; // row 1: the last column
        using var l = fixture.Upload(logits);
        using var best = fixture.Device.Accelerator.Allocate1D<int>(2);
        e.ArgMax(l.View, 2, Vocabulary, best.View);
        int[] expected = [_reference.ArgMax(logits.AsSpan(0, Vocabulary)), _reference.ArgMax(logits.AsSpan(Vocabulary, Vocabulary))];
        Assert.Equal([90_001, Vocabulary - 1], expected);
        Assert.Equal(expected, IlgpuCpuDevice.Download(best));
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.F16)]
    public void MatMul_fused_epilogues_match_separate_ops(GgmlType type)
    {
        // Accumulate: output += x · Wᵀ (the residual add); SwiGlu: silu(x · Gᵀ) ⊙ (x · Uᵀ) from two weights.
        const int K = 256, N = 7, Rows = 5;
        var random = new Random((int)type + 21);
        using var gate = new QuantizedWeight(type, K, N, random);
        using var up = new QuantizedWeight(type, K, N, random);
        var x = RandomArray(random, Rows * K);
        var residual = RandomArray(random, Rows * N);
        var accumulated = RunMatMul(x, Rows, gate, MatMulKernels.Accumulate, null, residual);
        var gated = RunMatMul(x, Rows, gate, MatMulKernels.SwiGlu, up, null);
        var g = new float[Rows * N];
        var u = new float[Rows * N];
        var bounds = new double[Rows * N];
        for (var r = 0; r < Rows; r++)
        {
            for (var j = 0; j < N; j++)
            {
                var (dot, bound) = Dot(x, r, gate, j, K);
                var i = (r * N) + j;
                Assert.True(Math.Abs(accumulated[i] - (residual[i] + dot)) <= bound + (2 * U * Math.Abs(residual[i] + dot)), $"accumulate [{r},{j}]");
                var (upDot, upBound) = Dot(x, r, up, j, K);
                g[i] = (float)dot;
                u[i] = (float)upDot;

                // silu has slope within [-0.1, 1.1]: errors in g and u propagate by at most these factors.
                var silu = dot / (1 + Math.Exp(-dot));
                bounds[i] = (1.1 * Math.Abs(upDot) * bound) + (Math.Abs(silu) * upBound) + (16 * U * Math.Abs(silu * upDot));
            }
        }

        var expected = new float[Rows * N];
        _reference.SwiGlu(g, u, expected.Length, expected);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(gated[i] - expected[i]) <= (2 * bounds[i]) + 1e-30, $"swiglu {i}: {gated[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K)]
    public void MatMul3_equals_three_separate_launches(GgmlType type)
    {
        // Q, K, V in one launch (5, 3 and 2 rows: segment edges inside groups of 4 warps) must write exactly what
        // three launches write: each column is the same computation.
        const int K = 256, Rows = 3;
        var random = new Random((int)type + 40);
        using var q = new QuantizedWeight(type, K, 5, random);
        using var k = new QuantizedWeight(type, K, 3, random);
        using var v = new QuantizedWeight(type, K, 2, random);
        var x = RandomArray(random, Rows * K);
        using var input = fixture.Upload(x);
        using var qw = fixture.Upload(Padded(q.Bytes));
        using var kw = fixture.Upload(Padded(k.Bytes));
        using var vw = fixture.Upload(Padded(v.Bytes));
        using var qo = fixture.Device.Accelerator.Allocate1D<float>(Rows * 5);
        using var ko = fixture.Device.Accelerator.Allocate1D<float>(Rows * 3);
        using var vo = fixture.Device.Accelerator.Allocate1D<float>(Rows * 2);
        var shape = new MatMulKernels.MatMulShape((int)type, K, 5, q.Matrix.RowBytes);
        fixture.Device.MatMul.MatMul3(input.View, Rows, shape, (qw.View, 5, qo.View), (kw.View, 3, ko.View), (vw.View, 2, vo.View));
        Assert.Equal(RunMatMul(x, Rows, q, MatMulKernels.Store, null, null), IlgpuCpuDevice.Download(qo));
        Assert.Equal(RunMatMul(x, Rows, k, MatMulKernels.Store, null, null), IlgpuCpuDevice.Download(ko));
        Assert.Equal(RunMatMul(x, Rows, v, MatMulKernels.Store, null, null), IlgpuCpuDevice.Download(vo));
    }

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void Embed_decodes_rows_exactly_as_the_host(GgmlType type)
    {
        const int Dim = 256;
        using var table = new QuantizedWeight(type, Dim, 5, new Random(3));
        int[] tokens = [4, 0, 4, 2];
        using var bytes = fixture.Upload(table.Bytes);
        using var ids = fixture.Upload(tokens);
        using var output = fixture.Device.Accelerator.Allocate1D<float>(tokens.Length * Dim);
        fixture.Device.Elementwise.Embed(bytes.View, (int)type, table.Matrix.RowBytes, ids.View, tokens.Length, Dim, output.View);
        var actual = IlgpuCpuDevice.Download(output);
        for (var t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(table.Values.AsSpan(tokens[t] * Dim, Dim).ToArray(), actual.AsSpan(t * Dim, Dim).ToArray());
        }
    }

    [Fact]
    public void RmsNorm_matches_reference()
    {
        const int Dim = 300, Rows = 3;
        var random = new Random(11);
        var x = RandomArray(random, Rows * Dim);
        var weight = RandomArray(random, Dim);
        var expected = new float[Rows * Dim];
        _reference.RmsNorm(x, Rows, Dim, weight, 1e-5f, expected);
        using var input = fixture.Upload(x);
        using var w = fixture.Upload(weight);
        using var output = fixture.Device.Accelerator.Allocate1D<float>(x.Length);
        fixture.Device.Elementwise.RmsNorm(input.View, Rows, Dim, w.View, 1e-5f, output.View);
        var actual = IlgpuCpuDevice.Download(output);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= ((Dim + 8) * U * Math.Abs(expected[i])) + 1e-30, $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(RopeMode.Normal, 16, 16)]
    [InlineData(RopeMode.NeoX, 16, 8)]
    public void Rope_with_llama3_divisors_matches_reference(RopeMode mode, int headDim, int ropeDims)
    {
        const int Heads = 3, Rows = 4;
        var random = new Random(headDim + ropeDims);
        var x = RandomArray(random, Rows * Heads * headDim);
        int[] positions = [0, 5, 37, 63];
        var divisors = new Llama3RopeScaling(8f, 1f, 4f, 8192).FrequencyDivisors(500000f, ropeDims);
        var rope = new RopeParameters(mode, ropeDims, 500000f, 1f, divisors);
        var expected = (float[])x.Clone();
        _reference.Rope(expected, Rows, Heads, headDim, positions, rope);
        var half = ropeDims / 2;
        var cos = new float[64 * half];
        var sin = new float[64 * half];
        for (var p = 0; p < 64; p++)
        {
            rope.Angles(p, cos.AsSpan(p * half, half), sin.AsSpan(p * half, half));
        }

        using var data = fixture.Upload(x);
        using var pos = fixture.Upload(positions);
        using var c = fixture.Upload(cos);
        using var s = fixture.Upload(sin);
        var shape = new ElementwiseKernels.RopeShape(Rows, Heads, headDim, ropeDims, mode == RopeMode.NeoX ? 1 : 0);
        fixture.Device.Elementwise.Rope(data.View, shape, pos.View, c.View, s.View);
        var actual = IlgpuCpuDevice.Download(data);
        for (var i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= (8 * U) + 1e-12, $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void SwiGlu_adds_gather_and_argmax_match_reference()
    {
        const int Count = 300;
        var random = new Random(5);
        var gate = RandomArray(random, Count, 8);
        var up = RandomArray(random, Count, 2);
        var expected = new float[Count];
        _reference.SwiGlu(gate, up, Count, expected);
        var e = fixture.Device.Elementwise;
        using var g = fixture.Upload(gate);
        using var u = fixture.Upload(up);
        using var output = fixture.Device.Accelerator.Allocate1D<float>(Count);
        e.SwiGlu(g.View, u.View, Count, output.View);
        var actual = IlgpuCpuDevice.Download(output);
        for (var i = 0; i < Count; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= (16 * U * Math.Abs(expected[i])) + 1e-30, $"element {i}: {actual[i]} vs {expected[i]}");
        }

        var sum = (float[])gate.Clone();
        _reference.Add(sum, up, Count);
        e.Add(g.View, u.View, Count);
        Assert.Equal(sum, IlgpuCpuDevice.Download(g));

        var bias = RandomArray(random, Count / 3);
        _reference.AddBias(sum, 3, bias);
        using var b = fixture.Upload(bias);
        e.AddBias(g.View, b.View, 3);
        Assert.Equal(sum, IlgpuCpuDevice.Download(g));

        // Rows 2 and 0 of a (3, 100) matrix; then argmax per row with a tie (first index wins).
        using var rows = fixture.Upload(new[] { 2, 0 });
        using var gathered = fixture.Device.Accelerator.Allocate1D<float>(200);
        e.GatherRows(g.View, rows.View, 2, 100, gathered.View);
        Assert.Equal(sum.AsSpan(200, 100).ToArray().Concat(sum.AsSpan(0, 100).ToArray()), IlgpuCpuDevice.Download(gathered));

        var logits = RandomArray(random, 3 * 100);
        logits[40] = logits[77] = 50f;
        logits[100 + 99] = 50f;
        logits[200] = 50f;
        using var l = fixture.Upload(logits);
        using var ids = fixture.Device.Accelerator.Allocate1D<int>(3);
        e.ArgMax(l.View, 3, 100, ids.View);
        int[] expectedIds = [_reference.ArgMax(logits.AsSpan(0, 100)), _reference.ArgMax(logits.AsSpan(100, 100)), _reference.ArgMax(logits.AsSpan(200, 100))];
        Assert.Equal([40, 99, 0], expectedIds);
        Assert.Equal(expectedIds, IlgpuCpuDevice.Download(ids));
    }

    public void Dispose() => _reference.Dispose();

    /// <summary>The exact dot of x row r with weight row j, and the bound an f32 sum in any order stays within.</summary>
    private static (double Exact, double Bound) Dot(float[] x, int r, QuantizedWeight w, int j, int k)
    {
        double exact = 0, magnitude = 0;
        for (var i = 0; i < k; i++)
        {
            var term = (double)x[(r * k) + i] * w.Values[(j * k) + i];
            exact += term;
            magnitude += Math.Abs(term);
        }

        return (exact, ((k + 2) * U * magnitude) + 1e-30);
    }

    /// <summary>The matmul kernel on x (rows, k) and w, weights padded to whole words as the forward pass uploads them.</summary>
    private float[] RunMatMul(float[] x, int rows, QuantizedWeight w, int epilogue, QuantizedWeight? second, float[]? initial)
    {
        var k = w.Matrix.Columns;
        var n = w.Matrix.Rows;
        using var input = fixture.Upload(x);
        using var weight = fixture.Upload(Padded(w.Bytes));
        using var up = fixture.Upload(Padded(second?.Bytes ?? [0, 0, 0, 0]));
        using var output = initial is null ? fixture.Device.Accelerator.Allocate1D<float>(rows * n) : fixture.Upload(initial);
        var shape = new MatMulKernels.MatMulShape((int)w.Matrix.Type, k, n, w.Matrix.RowBytes, epilogue);
        fixture.Device.MatMul.MatMul(input.View, rows, weight.View, shape, output.View, second is null ? default : up.View);
        return IlgpuCpuDevice.Download(output);
    }

    private static byte[] Padded(byte[] bytes)
    {
        var padded = new byte[MatMulKernels.PaddedBytes(bytes.Length)];
        bytes.CopyTo(padded, 0);
        return padded;
    }

    internal static float[] RoundToHalf(float[] values) => [.. values.Select(v => (float)(System.Half)v)];

    internal static float[] RandomArray(Random random, int length, float scale = 1f)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }
}
