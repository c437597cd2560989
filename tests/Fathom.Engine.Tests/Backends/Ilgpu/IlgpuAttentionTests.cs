using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.Backends.Reference;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using ILGPU.Runtime;
using static Fathom.Engine.Tests.Backends.Ilgpu.IlgpuKernelTests;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The paged-KV attention kernels on ILGPU's CPU accelerator: KV store, attention (prefill and decode, unsplit and
/// split-K with the log-sum-exp combine), and RoPE fused into both, against <see cref="ReferenceBackend"/>.
/// </summary>
public sealed class IlgpuAttentionTests(IlgpuCpuDevice fixture) : IClassFixture<IlgpuCpuDevice>, IDisposable
{
    private const double U = 1.0 / (1 << 24);
    private readonly ReferenceBackend _reference = new();

    [Theory]
    [InlineData(4, 2, 8, 1)]
    [InlineData(8, 2, 16, 20)]
    [InlineData(8, 1, 128, 5)] // Llama-3-70B's head_dim and GQA group of 8: every lane of a 32-lane warp owns 2 pairs
    public void Paged_f16_attention_matches_reference_on_the_same_f16_values(int heads, int kvHeads, int headDim, int promptLength)
    {
        const int Blocks = 12, BlockSize = 4, Layers = 2, Layer = 1;
        var random = new Random((heads * headDim) + promptLength);
        // Sequence 0 decodes at positions 0..2 of scattered blocks; sequence 1 prefills promptLength tokens.
        int[][] tables = [[7, 2, 9], [3, 11, 0, 5, 1, 4]];
        var n = promptLength + 3;
        var positions = new int[n];
        var sequences = new int[n];
        for (var t = 0; t < n; t++)
        {
            sequences[t] = t < 3 ? 0 : 1;
            positions[t] = t < 3 ? t : t - 3;
        }

        var batch = new ForwardBatch(new int[n], positions, sequences, tables, [n - 1]);
        var keys = RoundToHalf(RandomArray(random, n * kvHeads * headDim));
        var values = RoundToHalf(RandomArray(random, n * kvHeads * headDim));
        var q = RandomArray(random, n * heads * headDim);
        var storage = new PagedKvStorage(Layers, Blocks, BlockSize, kvHeads, headDim);
        var expected = new float[q.Length];
        _reference.StoreKv(keys, values, batch, storage, Layer);
        _reference.Attention(q, batch, storage, Layer, heads, expected);

        var starts = new int[] { 0, tables[0].Length };
        var accelerator = fixture.Device.Accelerator;
        using var kBuffer = fixture.Upload(keys);
        using var vBuffer = fixture.Upload(values);
        using var qBuffer = fixture.Upload(q);
        using var posBuffer = fixture.Upload(positions);
        using var seqBuffer = fixture.Upload(sequences);
        using var startBuffer = fixture.Upload(starts);
        using var tableBuffer = fixture.Upload(tables.SelectMany(t => t).ToArray());
        var layerElements = Blocks * BlockSize * kvHeads * headDim;
        using var cacheK = accelerator.Allocate1D<DeviceHalf>(Layers * layerElements);
        using var cacheV = accelerator.Allocate1D<DeviceHalf>(Layers * layerElements);
        using var output = accelerator.Allocate1D<float>(q.Length);
        cacheK.MemSetToZero();
        cacheV.MemSetToZero();
        var shape = new AttentionKernels.KvShape(n, heads, kvHeads, headDim, BlockSize, Layer * layerElements, 1f / MathF.Sqrt(headDim));
        var views = new AttentionKernels.BatchViews(posBuffer.View, seqBuffer.View, startBuffer.View, tableBuffer.View);
        fixture.Device.Attention.StoreKv(kBuffer.View, vBuffer.View, shape, views, cacheK.View, cacheV.View);
        fixture.Device.Attention.Attention(qBuffer.View, shape, views, cacheK.View, cacheV.View, output.View);
        var actual = IlgpuCpuDevice.Download(output);

        var storedKeys = IlgpuCpuDevice.Download(cacheK).Skip(Layer * layerElements).Select(h => (float)h).ToArray();
        Assert.Equal(storage.Keys(Layer), storedKeys);
        for (var i = 0; i < expected.Length; i++)
        {
            var bound = 2 * ((headDim * headDim) + promptLength + 8) * U;
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void Split_k_decode_attention_matches_reference_at_awkward_lengths(int splits)
    {
        // Four sequences with contexts 1, 17, 255, 300 in scattered blocks of 16; their caches are stored by one
        // prefill-like StoreKv, then one decode token each attends with the context cut into `splits` chunks
        // (the 1-position sequence leaves every split but the first empty).
        const int Heads = 4, KvHeads = 2, HeadDim = 16, BlockSize = 16, Blocks = 40;
        int[] lengths = [1, 17, 255, 300];
        var random = new Random(splits);
        var order = Enumerable.Range(0, Blocks).OrderBy(_ => random.Next()).ToArray();
        var tables = new int[lengths.Length][];
        var next = 0;
        for (var s = 0; s < lengths.Length; s++)
        {
            tables[s] = order.AsSpan(next, (lengths[s] + BlockSize - 1) / BlockSize).ToArray();
            next += tables[s].Length;
        }

        var positions = lengths.SelectMany(l => Enumerable.Range(0, l)).ToArray();
        var sequences = lengths.SelectMany((l, s) => Enumerable.Repeat(s, l)).ToArray();
        var n = positions.Length;
        var prefill = new ForwardBatch(new int[n], positions, sequences, tables, [n - 1]);
        var decode = new ForwardBatch(new int[lengths.Length], [.. lengths.Select(l => l - 1)], [0, 1, 2, 3], tables, [0, 1, 2, 3]);
        var keys = RoundToHalf(RandomArray(random, n * KvHeads * HeadDim));
        var values = RoundToHalf(RandomArray(random, n * KvHeads * HeadDim));
        var q = RandomArray(random, lengths.Length * Heads * HeadDim, 2f);
        var storage = new PagedKvStorage(1, Blocks, BlockSize, KvHeads, HeadDim);
        var expected = new float[q.Length];
        _reference.StoreKv(keys, values, prefill, storage, 0);
        _reference.Attention(q, decode, storage, 0, Heads, expected);

        var accelerator = fixture.Device.Accelerator;
        var layerElements = Blocks * BlockSize * KvHeads * HeadDim;
        int[] starts = [.. tables.Select((_, s) => tables.Take(s).Sum(t => t.Length))];
        using var kBuffer = fixture.Upload(keys);
        using var vBuffer = fixture.Upload(values);
        using var qBuffer = fixture.Upload(q);
        using var startBuffer = fixture.Upload(starts);
        using var tableBuffer = fixture.Upload(tables.SelectMany(t => t).ToArray());
        using var prefillPositions = fixture.Upload(positions);
        using var prefillSequences = fixture.Upload(sequences);
        using var decodePositions = fixture.Upload(decode.Positions.ToArray());
        using var decodeSequences = fixture.Upload(new[] { 0, 1, 2, 3 });
        using var cacheK = accelerator.Allocate1D<DeviceHalf>(layerElements);
        using var cacheV = accelerator.Allocate1D<DeviceHalf>(layerElements);
        using var partial = accelerator.Allocate1D<float>(q.Length * splits);
        using var stats = accelerator.Allocate1D<float>(2 * lengths.Length * Heads * splits);
        using var output = accelerator.Allocate1D<float>(q.Length);
        var store = new AttentionKernels.KvShape(n, Heads, KvHeads, HeadDim, BlockSize, 0, 1f / MathF.Sqrt(HeadDim));
        fixture.Device.Attention.StoreKv(kBuffer.View, vBuffer.View, store, new(prefillPositions.View, prefillSequences.View, startBuffer.View, tableBuffer.View), cacheK.View, cacheV.View);
        var views = new AttentionKernels.BatchViews(decodePositions.View, decodeSequences.View, startBuffer.View, tableBuffer.View);
        fixture.Device.Attention.Attention(qBuffer.View, store with { Tokens = lengths.Length }, views, cacheK.View, cacheV.View, output.View, splits, lengths.Max(), partial.View, stats.View);
        var actual = IlgpuCpuDevice.Download(output);
        for (var i = 0; i < expected.Length; i++)
        {
            var bound = 2 * ((HeadDim * HeadDim) + lengths.Max() + 8) * U;
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"splits {splits}, element {i} (sequence {i / (Heads * HeadDim)}): {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(RopeMode.Normal, 16)]
    [InlineData(RopeMode.NeoX, 8)]
    public void Rope_fused_into_kv_store_and_attention_matches_separate_rope(RopeMode mode, int ropeDims)
    {
        // The forward pass rotates K inside StoreKv and Q inside attention; the same step with the RoPE kernel
        // run first must store the same f16 keys and give the same attention output (here through 2 splits).
        const int Heads = 4, KvHeads = 2, HeadDim = 16, BlockSize = 4, Blocks = 6, N = 9;
        var random = new Random(ropeDims + (int)mode);
        int[][] tables = [[5, 1, 3]];
        var positions = Enumerable.Range(0, N).ToArray();
        var q = RandomArray(random, N * Heads * HeadDim);
        var k = RandomArray(random, N * KvHeads * HeadDim);
        var v = RandomArray(random, N * KvHeads * HeadDim);
        var divisors = new Llama3RopeScaling(8f, 1f, 4f, 8192).FrequencyDivisors(500000f, ropeDims);
        var parameters = new RopeParameters(mode, ropeDims, 500000f, 1f, divisors);
        var half = ropeDims / 2;
        var cos = new float[N * half];
        var sin = new float[N * half];
        for (var p = 0; p < N; p++)
        {
            parameters.Angles(p, cos.AsSpan(p * half, half), sin.AsSpan(p * half, half));
        }

        var accelerator = fixture.Device.Accelerator;
        var e = fixture.Device.Elementwise;
        var attention = fixture.Device.Attention;
        using var qBuffer = fixture.Upload(q);
        using var kBuffer = fixture.Upload(k);
        using var vBuffer = fixture.Upload(v);
        using var c = fixture.Upload(cos);
        using var s = fixture.Upload(sin);
        using var pos = fixture.Upload(positions);
        using var seq = fixture.Upload(new int[N]);
        using var start = fixture.Upload(new[] { 0 });
        using var table = fixture.Upload(tables[0]);
        using var partial = accelerator.Allocate1D<float>(q.Length * 2);
        using var stats = accelerator.Allocate1D<float>(N * Heads * 2 * 2);
        var cacheLength = Blocks * BlockSize * KvHeads * HeadDim;
        using var fusedK = accelerator.Allocate1D<DeviceHalf>(cacheLength);
        using var fusedV = accelerator.Allocate1D<DeviceHalf>(cacheLength);
        using var fusedOut = accelerator.Allocate1D<float>(q.Length);
        using var plainK = accelerator.Allocate1D<DeviceHalf>(cacheLength);
        using var plainV = accelerator.Allocate1D<DeviceHalf>(cacheLength);
        using var plainOut = accelerator.Allocate1D<float>(q.Length);
        fusedK.MemSetToZero();
        plainK.MemSetToZero();
        var shape = new AttentionKernels.KvShape(N, Heads, KvHeads, HeadDim, BlockSize, 0, 1f / MathF.Sqrt(HeadDim));
        var views = new AttentionKernels.BatchViews(pos.View, seq.View, start.View, table.View);
        var rope = new AttentionKernels.RopeViews(ropeDims, mode == RopeMode.NeoX ? 1 : 0, c.View, s.View);

        attention.StoreKv(kBuffer.View, vBuffer.View, shape, views, fusedK.View, fusedV.View, rope);
        attention.Attention(qBuffer.View, shape, views, fusedK.View, fusedV.View, fusedOut.View, 2, N, partial.View, stats.View, rope);

        var ropeShape = new ElementwiseKernels.RopeShape(N, Heads, HeadDim, ropeDims, rope.NeoX);
        e.Rope(qBuffer.View, ropeShape, pos.View, c.View, s.View);
        e.Rope(kBuffer.View, ropeShape with { Heads = KvHeads }, pos.View, c.View, s.View);
        attention.StoreKv(kBuffer.View, vBuffer.View, shape, views, plainK.View, plainV.View);
        attention.Attention(qBuffer.View, shape, views, plainK.View, plainV.View, plainOut.View);

        Assert.Equal(IlgpuCpuDevice.Download(plainK), IlgpuCpuDevice.Download(fusedK));
        var expected = IlgpuCpuDevice.Download(plainOut);
        var actual = IlgpuCpuDevice.Download(fusedOut);
        Assert.Contains(expected, x => x != 0);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 2 * ((HeadDim * HeadDim) + N + 8) * U, $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Split_choice_fills_the_device_for_long_decode_and_leaves_prefill_unsplit()
    {
        var attention = fixture.Device.Attention;
        Assert.Equal(1, attention.ChooseSplits(tokens: 1, items: 8, maxLength: attention.MinChunk - 1));
        Assert.Equal(1, attention.ChooseSplits(tokens: AttentionKernels.SplitTokenLimit + 1, items: 8, maxLength: 10_000));
        var longDecode = attention.ChooseSplits(tokens: 1, items: 1, maxLength: 10_000);
        Assert.Equal(Math.Min(AttentionKernels.MaxSplits, attention.TargetWarps), longDecode);
        Assert.InRange(attention.ChooseSplits(tokens: 1, items: 1, maxLength: 3 * attention.MinChunk), 2, 3);
    }

    public void Dispose() => _reference.Dispose();
}
