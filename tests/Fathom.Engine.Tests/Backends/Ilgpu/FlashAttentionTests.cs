using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.Backends.Reference;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using ILGPU.Runtime;
using static Fathom.Engine.Tests.Backends.Ilgpu.IlgpuKernelTests;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The tiled prefill attention kernel (<see cref="FlashAttentionKernels"/>) on 32-lane and 4-lane CPU accelerators,
/// against the warp-per-(token, head) kernel and <see cref="ReferenceBackend"/> on one step of several sequences with
/// cached prefixes. Tolerance: inputs lie in [-1, 1], so a score is an f32 sum of head_dim products of magnitude ≤ 1,
/// whose summation order alone moves it by up to head_dim² · u (u = 2⁻²⁴); the running softmax sums add one rounding
/// per position (L · u), and the output is a convex combination of values in [-1, 1]. Each implementation is within
/// (head_dim² + L + 8) · u of the exact result, so two of them within twice that — the bound the warp kernel's tests
/// use. A wrong causal mask (a row seeing a later position) or a wrong GQA mapping (a row reading another head's Q
/// or K/V) moves outputs by O(0.1), far outside it.
/// </summary>
public sealed class FlashAttentionTests(IlgpuCpuDevice warp32, Warp4CpuDevice warp4) : IClassFixture<IlgpuCpuDevice>, IClassFixture<Warp4CpuDevice>, IDisposable
{
    private const double U = 1.0 / (1 << 24);

    // (cached prefix, step tokens) per sequence: a fresh odd-length prompt, a prefix ending mid-block with a chunk after
    // it, a decode row, a prefix of exactly two blocks of 16.
    private static readonly (int Prefix, int Tokens)[] Sequences = [(0, 21), (19, 6), (5, 1), (32, 3)];

    private readonly ReferenceBackend _reference = new();

    public static TheoryData<int, int, int, int, bool> Cases => new()
    {
        // heads, kv heads (GQA ratio 1 / 4 / 8), head_dim, block size, 32-lane warp
        { 4, 4, 64, 16, true },
        { 8, 2, 64, 7, true },
        { 16, 2, 128, 16, true },
        { 8, 1, 128, 32, true },
        { 4, 4, 128, 1, false },
        { 16, 2, 64, 16, false },
        { 8, 2, 16, 5, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Flash_attention_matches_the_warp_kernel_and_the_reference(int heads, int kvHeads, int headDim, int blockSize, bool thirtyTwoLanes)
    {
        var device = thirtyTwoLanes ? warp32.Device : warp4.Device;
        var accelerator = device.Accelerator;
        var random = new Random((heads * 1000) + (headDim * 10) + blockSize);

        // Scattered blocks per sequence, holding its prefix and its step tokens.
        var blocks = Sequences.Sum(s => (s.Prefix + s.Tokens + blockSize - 1) / blockSize);
        var order = Enumerable.Range(0, blocks).OrderBy(_ => random.Next()).ToArray();
        var tables = new int[Sequences.Length][];
        var next = 0;
        for (var s = 0; s < Sequences.Length; s++)
        {
            tables[s] = order.AsSpan(next, (Sequences[s].Prefix + Sequences[s].Tokens + blockSize - 1) / blockSize).ToArray();
            next += tables[s].Length;
        }

        var prefix = Batch(tables, s => 0, s => Sequences[s].Prefix);
        var step = Batch(tables, s => Sequences[s].Prefix, s => Sequences[s].Tokens);
        var kvWidth = kvHeads * headDim;
        var storage = new PagedKvStorage(1, blocks, blockSize, kvHeads, headDim);
        var layerElements = blocks * blockSize * kvWidth;
        using var cacheK = accelerator.Allocate1D<DeviceHalf>(layerElements);
        using var cacheV = accelerator.Allocate1D<DeviceHalf>(layerElements);
        cacheK.MemSetToZero();
        cacheV.MemSetToZero();
        using var starts = accelerator.Allocate1D(tables.Select((_, s) => tables.Take(s).Sum(t => t.Length)).ToArray());
        using var flat = accelerator.Allocate1D(tables.SelectMany(t => t).ToArray());
        var shape = new AttentionKernels.KvShape(0, heads, kvHeads, headDim, blockSize, 0, 1f / MathF.Sqrt(headDim));
        foreach (var batch in new[] { prefix, step })
        {
            // K and V already f16 values, so the reference's f32 cache holds what the device's f16 cache holds.
            var keys = RoundToHalf(RandomArray(random, batch.Count * kvWidth));
            var values = RoundToHalf(RandomArray(random, batch.Count * kvWidth));
            _reference.StoreKv(keys, values, batch, storage, 0);
            using var k = accelerator.Allocate1D(keys);
            using var v = accelerator.Allocate1D(values);
            using var positions = accelerator.Allocate1D(batch.Positions.ToArray());
            using var sequences = accelerator.Allocate1D(batch.SequenceIndices.ToArray());
            device.Attention.StoreKv(k.View, v.View, shape with { Tokens = batch.Count }, new(positions.View, sequences.View, starts.View, flat.View), cacheK.View, cacheV.View);
        }

        var n = step.Count;
        var q = RandomArray(random, n * heads * headDim);
        var expected = new float[q.Length];
        _reference.Attention(q, step, storage, 0, heads, expected);

        using var qBuffer = accelerator.Allocate1D(q);
        using var stepPositions = accelerator.Allocate1D(step.Positions.ToArray());
        using var stepSequences = accelerator.Allocate1D(step.SequenceIndices.ToArray());
        using var output = accelerator.Allocate1D<float>(q.Length);
        var views = new AttentionKernels.BatchViews(stepPositions.View, stepSequences.View, starts.View, flat.View);
        var stepShape = shape with { Tokens = n };
        var tiles = device.FlashAttention.PlanStep(step.SequenceIndices, 1, heads, kvHeads, headDim);
        Assert.True(tiles.Count > 0, "a 31-token step must choose the flash kernel");
        var launches = device.FlashAttention.Launches;
        device.FlashAttention.Attention(qBuffer.View, stepShape, views, cacheK.View, cacheV.View, output.View, tiles);
        Assert.Equal(launches + 1, device.FlashAttention.Launches);
        var flash = output.GetAsArray1D();

        var maxLength = Sequences.Max(s => s.Prefix + s.Tokens);
        var bound = 2 * ((headDim * headDim) + maxLength + 8) * U;
        var worst = Compare(flash, expected, bound, "reference", heads, headDim);
        if (device.Attention.SupportsHeadDimension(headDim))
        {
            output.MemSetToZero();
            device.Attention.Attention(qBuffer.View, stepShape, views, cacheK.View, cacheV.View, output.View);
            worst = Math.Max(worst, Compare(flash, output.GetAsArray1D(), bound, "warp kernel", heads, headDim));
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"max |flash - other| = {worst:E2} (bound {bound:E2})");
    }

    [Fact]
    public void Tiles_are_runs_of_one_sequence_cut_to_the_query_rows()
    {
        int[] sequences = [.. Enumerable.Repeat(0, 21), .. Enumerable.Repeat(1, 6), 2, 3, 3, 3, 0];
        // Ratio 8: 4 tokens (32 rows) per tile; a sequence that comes back later gets a tile of its own.
        Assert.Equal([0, 4, 4, 4, 8, 4, 12, 4, 16, 4, 20, 1, 21, 4, 25, 2, 27, 1, 28, 3, 31, 1], FlashAttentionKernels.PlanTiles(sequences, 8));
        Assert.Equal([0, 21, 21, 6, 27, 1, 28, 3, 31, 1], FlashAttentionKernels.PlanTiles(sequences, 1));
        Assert.Equal([0, 1, 1, 1], FlashAttentionKernels.PlanTiles([5, 5], 32));
    }

    [Fact]
    public void Step_choice_takes_prefill_and_leaves_decode_to_the_split_k_kernel()
    {
        var flash = warp32.Device.FlashAttention;
        int[] prefill = [.. Enumerable.Repeat(0, AttentionKernels.SplitTokenLimit + 1)];
        Assert.Equal(3, flash.PlanStep(prefill, 1, 8, 2, 128).Count); // 17 tokens of one sequence, ratio 4: tiles of 8, 8, 1 tokens
        Assert.Equal(0, flash.PlanStep(prefill.AsSpan(1), 1, 8, 2, 128).Count); // 16 tokens: decode-sized
        Assert.Equal(0, flash.PlanStep(prefill, 2, 8, 2, 128).Count); // split-K chosen
        Assert.Equal(0, flash.PlanStep(prefill, 1, 8, 2, 256).Count); // head_dim beyond the shared tiles
        Assert.Equal(0, flash.PlanStep(prefill, 1, 64, 1, 128).Count); // a GQA group wider than a tile
        int[] decode = [.. Enumerable.Range(0, 40)]; // 40 sequences, one token each
        Assert.Equal(0, flash.PlanStep(decode, 1, 8, 8, 64).Count); // 1-row tiles: left to the warp kernel
        Assert.Equal(40, flash.PlanStep(decode, 1, 32, 4, 64).Count); // ratio 8: 8 rows per tile
        using var off = IlgpuDevice.OpenCpu(options: new IlgpuKernelOptions(FlashAttention: false));
        Assert.Equal(0, off.FlashAttention.PlanStep(prefill, 1, 8, 2, 128).Count);
    }

    private static double Compare(float[] actual, float[] expected, double bound, string what, int heads, int headDim)
    {
        double worst = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs((double)actual[i] - expected[i]);
            worst = Math.Max(worst, difference);
            Assert.True(difference <= bound, $"against the {what}: token {i / (heads * headDim)}, head {i / headDim % heads}, dim {i % headDim}: {actual[i]} vs {expected[i]}");
        }

        return worst;
    }

    private static ForwardBatch Batch(int[][] tables, Func<int, int> from, Func<int, int> count)
    {
        var positions = new List<int>();
        var sequences = new List<int>();
        for (var s = 0; s < tables.Length; s++)
        {
            for (var p = from(s); p < from(s) + count(s); p++)
            {
                positions.Add(p);
                sequences.Add(s);
            }
        }

        return new ForwardBatch(new int[positions.Count], [.. positions], [.. sequences], tables, [positions.Count - 1]);
    }

    public void Dispose() => _reference.Dispose();
}
