using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Reference;
using Fathom.Gguf;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Tests.Backends;

/// <summary>
/// Every op of a backend against <see cref="ReferenceBackend"/> at awkward sizes. Tolerances are worst-case
/// rounding bounds of f32 arithmetic (unit roundoff u = 2^-24): a length-n f32 reduction in any order is within
/// n·u·Σ|terms| of the exact sum, which the reference (double accumulation) computes to within rounding.
/// </summary>
public abstract class BackendConformanceTests : IDisposable
{
    private const double U = 1.0 / (1 << 24);
    private readonly IComputeBackend _backend;
    private readonly ReferenceBackend _reference = new();

    private protected BackendConformanceTests(IComputeBackend backend)
    {
        _backend = backend;
    }

    public static TheoryData<GgmlType, int, int, int> MatMulCases()
    {
        var data = new TheoryData<GgmlType, int, int, int>();
        foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16 })
        {
            data.Add(type, 1, 1, 1);
            data.Add(type, 17, 17, 3);
            data.Add(type, 255, 33, 1);
            data.Add(type, 4096, 19, 2);
            data.Add(type, (6 * 512) + 7, 255, 33);

            // Wide rows and a long batch: several activation tiles of an L2 per weight block.
            data.Add(type, 8192, 40, 70);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MatMulCases))]
    public void MatMul_matches_reference(GgmlType type, int k, int n, int rows)
    {
        var random = new Random(k * 31 + n);
        using var w1 = new NativeWeight(type, k, n, random);
        using var w2 = new NativeWeight(type, k, n + 5, random);
        var x = RandomArray(random, rows * k);
        var expected1 = new float[rows * n];
        var expected2 = new float[rows * (n + 5)];
        var actual1 = new float[rows * n];
        var actual2 = new float[rows * (n + 5)];
        _reference.MatMul(x, rows, new(w1.Matrix, expected1), new(w2.Matrix, expected2));
        _backend.MatMul(x, rows, new(Prepare(w1), actual1), new(Prepare(w2), actual2));
        AssertDotBound(x, w1.Values, k, expected1, actual1);
        AssertDotBound(x, w2.Values, k, expected2, actual2);
    }

    public static TheoryData<GgmlType, int, int, int> QuantMatMulCases()
    {
        var data = new TheoryData<GgmlType, int, int, int>();
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0 })
        {
            data.Add(type, 32, 1, 1);
            data.Add(type, 96, 17, 5);
            data.Add(type, 4096, 19, 2);
            data.Add(type, 32 * 97, 255, 33);
        }

        foreach (var type in new[] { GgmlType.Q4_K, GgmlType.Q6_K })
        {
            data.Add(type, 256, 1, 1);
            data.Add(type, 256, 17, 5);
            data.Add(type, 4096, 19, 2);
            data.Add(type, 256 * 7, 255, 33);
        }

        return data;
    }

    /// <summary>
    /// The reference multiplies exactly dequantized weights by f32 activations; a fast backend may quantize the
    /// activations first (Q8_0 blocks of 32 or Q8_K blocks of 256, as llama.cpp does). Each activation then moves by
    /// at most half a step, d/2 with d = block max/127, plus the fp16 rounding of a Q8_0 scale (|q| ≤ 127 times
    /// d·2^-11, i.e. 0.062·d): so |Δ| ≤ Σ_blocks 0.57·d_b·Σ_b|w|, plus the f32 reduction bound.
    /// </summary>
    [Theory]
    [MemberData(nameof(QuantMatMulCases))]
    public void Quantized_MatMul_matches_reference_within_activation_rounding(GgmlType type, int k, int n, int rows)
    {
        var random = new Random((k * 31) + n + (int)type);
        using var w1 = new NativeWeight(type, k, n, random);
        using var w2 = new NativeWeight(GgmlType.F16, k, n + 3, random);
        var x = RandomArray(random, rows * k);
        var expected1 = new float[rows * n];
        var expected2 = new float[rows * (n + 3)];
        var actual1 = new float[rows * n];
        var actual2 = new float[rows * (n + 3)];
        _reference.MatMul(x, rows, new(w1.Matrix, expected1), new(w2.Matrix, expected2));
        _backend.MatMul(x, rows, new(Prepare(w1), actual1), new(Prepare(w2), actual2));
        var block = type is GgmlType.Q8_0 or GgmlType.Q4_0 ? 32 : 256;
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < n; j++)
            {
                double magnitude = 0, quantization = 0;
                for (var b = 0; b < k; b += block)
                {
                    double amax = 0, wsum = 0;
                    for (var i = b; i < b + block; i++)
                    {
                        amax = Math.Max(amax, Math.Abs(x[(r * k) + i]));
                        wsum += Math.Abs(w1.Values[(j * k) + i]);
                        magnitude += Math.Abs((double)x[(r * k) + i] * w1.Values[(j * k) + i]);
                    }

                    quantization += 0.57 * amax / 127 * wsum;
                }

                var e = expected1[(r * n) + j];
                var bound = quantization + ((k + 2) * U * magnitude) + 1e-30;
                var a = actual1[(r * n) + j];
                Assert.True(Math.Abs(a - e) <= bound, $"{type} row {r}, output {j}: {a} vs {e} (bound {bound:E2})");
            }
        }

        AssertDotBound(x, w2.Values, k, expected2, actual2);
    }

    [Theory]
    [InlineData(GgmlType.F32, 512, 37)]
    [InlineData(GgmlType.F16, 512, 37)]
    [InlineData(GgmlType.BF16, 512, 37)]
    [InlineData(GgmlType.Q8_0, 512, 37)]
    [InlineData(GgmlType.Q4_0, 512, 37)]
    [InlineData(GgmlType.Q4_K, 512, 37)]
    [InlineData(GgmlType.Q6_K, 512, 37)]
    [InlineData(GgmlType.F16, (8 * 1024) + 9, 70)] // several activation tiles per weight block, and a vector tail
    [InlineData(GgmlType.BF16, (8 * 1024) + 9, 70)]
    [InlineData(GgmlType.Q8_0, 32 * 1024, 70)]
    [InlineData(GgmlType.Q4_K, 32 * 1024, 70)]
    public void MatMul_rows_do_not_depend_on_the_batch(GgmlType type, int k, int rows)
    {
        var random = new Random(77);
        using var w = new NativeWeight(type, k, 70, random);
        var x = RandomArray(random, rows * k);
        var batched = new float[rows * 70];
        _backend.MatMul(x, rows, new MatMulTarget(Prepare(w), batched));
        foreach (var r in new[] { 0, 5, 33, rows - 1 })
        {
            var alone = new float[70];
            _backend.MatMul(x.AsSpan(r * k, k).ToArray(), 1, new MatMulTarget(Prepare(w), alone));
            Assert.Equal(alone, batched.AsSpan(r * 70, 70).ToArray());
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 3)]
    [InlineData(255, 2)]
    [InlineData(4096, 5)]
    [InlineData((6 * 512) + 7, 1)]
    public void RmsNorm_matches_reference(int dim, int rows)
    {
        var random = new Random(dim);
        var x = RandomArray(random, rows * dim);
        var weight = RandomArray(random, dim);
        var expected = new float[rows * dim];
        var actual = new float[rows * dim];
        _reference.RmsNorm(x, rows, dim, weight, 1e-5f, expected);
        _backend.RmsNorm(x, rows, dim, weight, 1e-5f, actual);
        for (var i = 0; i < expected.Length; i++)
        {
            // Sum of squares: dim·u relative; 1/sqrt and two products: a few u more.
            Assert.True(Math.Abs(actual[i] - expected[i]) <= ((dim + 8) * U * Math.Abs(expected[i])) + 1e-30, $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(RopeMode.Normal, 64, 64, 3)]
    [InlineData(RopeMode.NeoX, 128, 128, 2)]
    [InlineData(RopeMode.Normal, 8, 4, 17)]
    [InlineData(RopeMode.NeoX, 32, 16, 5)]
    public void Rope_matches_reference(RopeMode mode, int headDim, int ropeDims, int rows)
    {
        var random = new Random(headDim + rows);
        const int Heads = 3;
        var x = RandomArray(random, rows * Heads * headDim);
        var positions = Enumerable.Range(0, rows).Select(i => i * 997 % 4000).ToArray();
        float[] divisors = [.. Enumerable.Range(0, ropeDims / 2).Select(i => 1f + (i % 3))];
        var rope = new RopeParameters(mode, ropeDims, 500000f, 1f, divisors);
        var expected = (float[])x.Clone();
        var actual = (float[])x.Clone();
        _reference.Rope(expected, rows, Heads, headDim, positions, rope);
        _backend.Rope(actual, rows, Heads, headDim, positions, rope);
        for (var i = 0; i < x.Length; i++)
        {
            // cos and sin rounded to f32 (u each), two products and a sum: ≤ 4u·(|x0| + |x1|) ≤ 8u·max|x|.
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 8 * U * 1.0 + 1e-12, $"element {i}: {actual[i]} vs {expected[i]}");
        }

        // Dimensions past the rotated ones pass through unchanged.
        for (var r = 0; r < rows * Heads; r++)
        {
            for (var d = ropeDims; d < headDim; d++)
            {
                Assert.Equal(x[(r * headDim) + d], actual[(r * headDim) + d]);
            }
        }
    }

    // Both K/V types: with f16 the reference reads the same rounded K/V through the storage, so the f32 bounds hold.
    [Theory]
    [InlineData(4, 2, 8, 1, KvCacheDataType.F32)]
    [InlineData(8, 2, 64, 17, KvCacheDataType.F32)]
    [InlineData(32, 8, 128, 40, KvCacheDataType.F32)]
    [InlineData(4, 2, 8, 1, KvCacheDataType.F16)]
    [InlineData(8, 2, 64, 17, KvCacheDataType.F16)]
    [InlineData(32, 8, 128, 40, KvCacheDataType.F16)]
    [InlineData(4, 2, 8, 1, KvCacheDataType.Fp8)]
    [InlineData(32, 8, 128, 40, KvCacheDataType.Fp8)]
    public void Attention_over_paged_kv_matches_reference(int heads, int kvHeads, int headDim, int promptLength, KvCacheDataType kvType)
    {
        var random = new Random(heads * headDim + promptLength);
        var storage = new PagedKvStorage(2, 12, 16, kvHeads, headDim, kvType);
        // Two sequences with scattered blocks; sequence 1 prefills promptLength tokens, sequence 0 three.
        int[][] tables = [[7, 2, 9], [3, 11, 0, 5]];
        var n = promptLength + 3;
        var tokens = new int[n];
        var positions = new int[n];
        var sequences = new int[n];
        for (var t = 0; t < n; t++)
        {
            sequences[t] = t < 3 ? 0 : 1;
            positions[t] = t < 3 ? t : t - 3;
        }

        var batch = new ForwardBatch(tokens, positions, sequences, tables, [n - 1]);
        var keys = RandomArray(random, n * kvHeads * headDim);
        var values = RandomArray(random, n * kvHeads * headDim);
        var q = RandomArray(random, n * heads * headDim);
        var expected = new float[q.Length];
        var actual = new float[q.Length];
        _reference.StoreKv(keys, values, batch, storage, 1);
        _reference.Attention(q, batch, storage, 1, heads, expected);
        var storage2 = new PagedKvStorage(2, 12, 16, kvHeads, headDim, kvType);
        _backend.StoreKv(keys, values, batch, storage2, 1);
        if (kvType == KvCacheDataType.F32)
        {
            Assert.Equal(storage.Keys(1), storage2.Keys(1));
            Assert.Equal(storage.Values(1), storage2.Values(1));
        }
        else if (kvType == KvCacheDataType.Fp8)
        {
            Assert.Equal(storage.Fp8Keys(1), storage2.Fp8Keys(1));
            Assert.Equal(storage.Fp8Values(1), storage2.Fp8Values(1));
            var offset = storage2.Offset(tables[1], 0);
            Assert.Equal(Fathom.Engine.Quantization.Fp8E4M3.FromSingle(keys[3 * kvHeads * headDim]), storage2.Fp8Keys(1)[offset]);
        }
        else
        {
            Assert.Equal(storage.HalfKeys(1), storage2.HalfKeys(1));
            Assert.Equal(storage.HalfValues(1), storage2.HalfValues(1));

            // Each element is the nearest f16 of what was stored.
            var offset = storage2.Offset(tables[1], 0);
            Assert.Equal((Half)keys[3 * kvHeads * headDim], storage2.HalfKeys(1)[offset]);
            Assert.Equal((Half)values[(3 * kvHeads * headDim) + 1], storage2.HalfValues(1)[offset + 1]);
        }

        _backend.Attention(q, batch, storage2, 1, heads, actual);
        for (var i = 0; i < expected.Length; i++)
        {
            // Scores carry headDim·u·Σ|q·k| ≤ headDim·u·headDim absolute error, which exp turns into the same relative
            // error of each weight; the weighted sum of |v| ≤ 1 adds length·u. Doubled for the normalisation.
            var bound = 2 * ((headDim * headDim) + promptLength + 8) * U;
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    // A prompt of two sequences (runs longer than one work item) against each token alone: the same bits.
    [Theory]
    [InlineData(KvCacheDataType.F32)]
    [InlineData(KvCacheDataType.F16)]
    [InlineData(KvCacheDataType.Fp8)]
    public void Attention_outputs_do_not_depend_on_the_batch(KvCacheDataType kvType)
    {
        const int Heads = 8, KvHeads = 2, HeadDim = 64, Prompt = 37;
        var random = new Random(41);
        var storage = new PagedKvStorage(1, 12, 16, KvHeads, HeadDim, kvType);
        int[][] tables = [[7, 2, 9], [3, 11, 0, 5]];
        var n = Prompt + 19;
        var tokens = new int[n];
        var positions = new int[n];
        var sequences = new int[n];
        for (var t = 0; t < n; t++)
        {
            sequences[t] = t < 19 ? 0 : 1;
            positions[t] = t < 19 ? t : t - 19;
        }

        var batch = new ForwardBatch(tokens, positions, sequences, tables, [n - 1]);
        var q = RandomArray(random, n * Heads * HeadDim);
        _backend.StoreKv(RandomArray(random, n * KvHeads * HeadDim), RandomArray(random, n * KvHeads * HeadDim), batch, storage, 0);
        var batched = new float[q.Length];
        _backend.Attention(q, batch, storage, 0, Heads, batched);
        foreach (var t in new[] { 0, 5, 18, 19, 30, n - 1 })
        {
            var row = Heads * HeadDim;
            var alone = new float[row];
            var single = new ForwardBatch([0], [positions[t]], [0], [tables[sequences[t]]], [0]);
            _backend.Attention(q.AsSpan(t * row, row).ToArray(), single, storage, 0, Heads, alone);
            Assert.Equal(alone, batched.AsSpan(t * row, row).ToArray());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(255)]
    [InlineData(4096)]
    [InlineData((6 * 512) + 7)]
    public void SwiGlu_Add_AddBias_and_ArgMax_match_reference(int count)
    {
        var random = new Random(count);
        var gate = RandomArray(random, count, 8);
        var up = RandomArray(random, count, 2);
        var expected = new float[count];
        var actual = new float[count];
        _reference.SwiGlu(gate, up, count, expected);
        _backend.SwiGlu(gate, up, count, actual);
        for (var i = 0; i < count; i++)
        {
            // Vectorised exp and division: a few ulp of each factor.
            Assert.True(Math.Abs(actual[i] - expected[i]) <= (16 * U * Math.Abs(expected[i])) + 1e-30, $"element {i}: {actual[i]} vs {expected[i]}");
        }

        var a = (float[])gate.Clone();
        var b = (float[])gate.Clone();
        _reference.Add(a, up, count);
        _backend.Add(b, up, count);
        Assert.Equal(a, b);

        var bias = RandomArray(random, count);
        _reference.AddBias(a, 1, bias);
        _backend.AddBias(b, 1, bias);
        Assert.Equal(a, b);

        gate[count / 2] = 100f;
        gate[count - 1] = 100f;
        Assert.Equal(_reference.ArgMax(gate), _backend.ArgMax(gate));
        Assert.Equal(count / 2, _backend.ArgMax(gate));
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void Embed_matches_reference_exactly(GgmlType type)
    {
        var dim = type is GgmlType.Q4_K or GgmlType.Q6_K ? 512 : type is GgmlType.Q8_0 or GgmlType.Q4_0 ? 288 : 255;
        using var table = new NativeWeight(type, dim, 17, new Random(5));
        int[] tokens = [0, 16, 3, 3];
        var expected = new float[tokens.Length * dim];
        var actual = new float[tokens.Length * dim];
        _reference.Embed(table.Matrix, tokens, expected);
        _backend.Embed(table.Matrix, tokens, actual);
        Assert.Equal(expected, actual);
        Assert.Equal(table.Values.AsSpan(16 * dim, dim).ToArray(), actual.AsSpan(dim, dim).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => _backend.Embed(table.Matrix, [17], actual));
    }

    /// <summary>The weight as the backend under test is given it (a backend may keep its own layout).</summary>
    private protected virtual WeightMatrix Prepare(NativeWeight weight) => weight.Matrix;

    public void Dispose()
    {
        _backend.Dispose();
        GC.SuppressFinalize(this);
    }

    private static float[] RandomArray(Random random, int length, float scale = 1f)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }

    private static void AssertDotBound(float[] x, float[] w, int k, float[] expected, float[] actual)
    {
        var n = expected.Length / (x.Length / k);
        for (var r = 0; r < x.Length / k; r++)
        {
            for (var j = 0; j < n; j++)
            {
                double magnitude = 0;
                for (var i = 0; i < k; i++)
                {
                    magnitude += Math.Abs((double)x[(r * k) + i] * w[(j * k) + i]);
                }

                var e = expected[(r * n) + j];
                var bound = ((k + 2) * U * magnitude) + 1e-30;
                Assert.True(Math.Abs(actual[(r * n) + j] - e) <= bound, $"row {r}, output {j}: {actual[(r * n) + j]} vs {e} (bound {bound:E2})");
            }
        }
    }
}
