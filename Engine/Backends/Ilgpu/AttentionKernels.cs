using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The paged KV cache on the device: storing each token's K and V (as f16 or fp8 e4m3, see <see cref="KvCacheView"/>) in its sequence's blocks, and causal
/// grouped-query attention over them. Cache layout per tensor: // (layers, blocks, block_size, n_head_kv, head_dim).
/// A sequence's block table lives at <c>tables[tableStart[s] ..]</c>; position p sits in block
/// <c>tables[tableStart[s] + p / block_size]</c>, slot <c>p % block_size</c>.
/// </summary>
internal sealed class AttentionKernels
{
    /// <summary>Head dimensions each lane accumulates; head_dim ≤ this × warp size.</summary>
    public const int DimsPerLane = 4;

    /// <summary>Most splits of one context (sizes the partial buffers).</summary>
    public const int MaxSplits = 32;

    /// <summary>Steps with more tokens than this (prefill) have enough (token, head) warps and run unsplit.</summary>
    public const int SplitTokenLimit = 16;

    private const int WarpsPerGroup = 4;

    private readonly int _warpSize;
    private readonly int _groupSize;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, KvShape, BatchViews, KvCacheView, KvCacheView, RopeViews> _storeKv;
    private readonly Action<KernelConfig, ArrayView<float>, KvShape, BatchViews, KvCacheView, KvCacheView, ArrayView<float>, SplitViews, RopeViews> _attention;
    private readonly Action<KernelConfig, KvShape, SplitViews, ArrayView<float>> _combine;

    public AttentionKernels(Accelerator accelerator)
    {
        _warpSize = accelerator.WarpSize;
        _groupSize = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        _storeKv = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, KvShape, BatchViews, KvCacheView, KvCacheView, RopeViews>(StoreKvKernel);
        _attention = accelerator.LoadStreamKernel<ArrayView<float>, KvShape, BatchViews, KvCacheView, KvCacheView, ArrayView<float>, SplitViews, RopeViews>(AttentionKernel);
        _combine = accelerator.LoadStreamKernel<KvShape, SplitViews, ArrayView<float>>(CombineKernel);
        var cpu = accelerator.AcceleratorType == AcceleratorType.CPU;
        MinChunk = cpu ? 4 : 64;
        TargetWarps = 16 * accelerator.NumMultiprocessors;
    }

    /// <summary>Cache geometry of one layer: <see cref="LayerOffset"/> is the layer's first element.</summary>
    internal readonly record struct KvShape(int Tokens, int Heads, int KvHeads, int HeadDimension, int BlockSize, long LayerOffset, float Scale);

    /// <summary>The step's token positions, sequence indices and block tables, on the device.</summary>
    internal readonly record struct BatchViews(ArrayView<int> Positions, ArrayView<int> Sequences, ArrayView<int> TableStarts, ArrayView<int> Tables);

    /// <summary>
    /// Split-K partials: <see cref="Splits"/> ranges of <see cref="Chunk"/> positions per (token, head).
    /// Partial (n_tokens, n_head, splits, head_dim) unnormalised outputs; Stats (n_tokens, n_head, splits, 2) max and sum.
    /// </summary>
    internal readonly record struct SplitViews(int Splits, int Chunk, ArrayView<float> Partial, ArrayView<float> Stats);

    /// <summary>
    /// RoPE applied on the fly (fused): <see cref="Dimensions"/> rotated dims per head (0: none), NeoX pairing
    /// when non-zero, and the exact cos/sin table. // cos, sin (positions, dimensions / 2)
    /// </summary>
    internal readonly record struct RopeViews(int Dimensions, int NeoX, ArrayView<float> Cos, ArrayView<float> Sin);

    // ---- kernels ----

    /// <summary>
    /// One thread per (token, kv element); K is rotated by <paramref name="rope"/> on the way (RoPE of K fused into
    /// the store: the rotated K is needed only in the cache). // k, v (n_tokens, n_head_kv * head_dim)
    /// </summary>
    internal static void StoreKvKernel(ArrayView<float> k, ArrayView<float> v, KvShape shape, BatchViews batch, KvCacheView keys, KvCacheView values, RopeViews rope)
    {
        var stride = shape.KvHeads * shape.HeadDimension;
        var index = Grid.GlobalIndex.X;
        if (index >= shape.Tokens * stride)
        {
            return;
        }

        var t = index / stride;
        var c = index % stride;
        var slot = Slot(batch, shape, t, batch.Positions[t]);
        var destination = shape.LayerOffset + (slot * stride) + c;
        var dim = c % shape.HeadDimension;
        keys.Store(destination, Rotated(k, index - dim, dim, batch.Positions[t], rope));
        values.Store(destination, v[index]);
    }

    /// <summary>
    /// One warp per (token, head, split), for decode and prefill alike: the positions of the token's sequence in
    /// the split's range [split·chunk, min(pos + 1, (split + 1)·chunk)) are visited in order with an online softmax
    /// (running max and sum). Lane l owns the dimension pairs l, l + warp (pairs read by one load through
    /// <see cref="KvCacheView.Pair"/>, so a warp reads a 4·warp-byte (f16) or 2·warp-byte (fp8) run of a cached K or V row per load), and the score of a position is one warp
    /// all-reduce. With one split the normalised output is written; with several (flash-decoding, for long
    /// contexts with few tokens) the unnormalised output and (max, sum) go to <paramref name="split"/>'s partials
    /// and <see cref="CombineKernel"/> merges them. // q, output (n_tokens, n_head, head_dim)
    /// </summary>
    internal static void AttentionKernel(ArrayView<float> q, KvShape shape, BatchViews batch, KvCacheView keys, KvCacheView values, ArrayView<float> output, SplitViews split, RopeViews rope)
    {
        var item = (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;
        if (item >= shape.Tokens * shape.Heads * split.Splits)
        {
            return;
        }

        var part = item % split.Splits;
        var th = item / split.Splits;
        var t = th / shape.Heads;
        var head = th % shape.Heads;
        var hd = shape.HeadDimension;
        var kvHead = head / (shape.Heads / shape.KvHeads);
        var stride = shape.KvHeads * hd;
        var lane = Warp.LaneIdx;
        var w = Warp.WarpSize;
        var qBase = (long)th * hd;
        int d0 = 2 * lane, d2 = (2 * lane) + (2 * w); // this lane's dims: d0, d0 + 1, d2, d2 + 1
        var position = batch.Positions[t];
        var q0 = d0 < hd ? Rotated(q, qBase, d0, position, rope) : 0f; // RoPE of Q fused here
        var q1 = d0 < hd ? Rotated(q, qBase, d0 + 1, position, rope) : 0f;
        var q2 = d2 < hd ? Rotated(q, qBase, d2, position, rope) : 0f;
        var q3 = d2 < hd ? Rotated(q, qBase, d2 + 1, position, rope) : 0f;
        float o0 = 0, o1 = 0, o2 = 0, o3 = 0;
        var max = float.NegativeInfinity;
        float sum = 0;
        var length = position + 1;
        var end = XMath.Min(length, (part + 1) * split.Chunk);
        for (var p = part * split.Chunk; p < end; p++)
        {
            // Element index of the (position, kv head) row: even because head_dim is, so pairs are aligned loads.
            var row = shape.LayerOffset + (Slot(batch, shape, t, p) * stride) + ((long)kvHead * hd);
            float k0 = 0, k1 = 0, k2 = 0, k3 = 0;
            if (d0 < hd)
            {
                keys.Pair(row + d0, out k0, out k1);
            }

            if (d2 < hd)
            {
                keys.Pair(row + d2, out k2, out k3);
            }

            var partial = (q0 * k0) + (q1 * k1) + (q2 * k2) + (q3 * k3);
            var score = WarpExtensions.AllReduce<float, AddFloat>(partial) * shape.Scale;
            var newMax = XMath.Max(max, score);
            var correction = XMath.Exp(max - newMax);
            var weight = XMath.Exp(score - newMax);
            sum = (sum * correction) + weight;
            max = newMax;
            float v0 = 0, v1 = 0, v2 = 0, v3 = 0;
            if (d0 < hd)
            {
                values.Pair(row + d0, out v0, out v1);
            }

            if (d2 < hd)
            {
                values.Pair(row + d2, out v2, out v3);
            }

            o0 = (o0 * correction) + (weight * v0);
            o1 = (o1 * correction) + (weight * v1);
            o2 = (o2 * correction) + (weight * v2);
            o3 = (o3 * correction) + (weight * v3);
        }

        if (split.Splits == 1)
        {
            var inverse = 1f / sum;
            WritePairs(output, qBase, d0, d2, hd, o0 * inverse, o1 * inverse, o2 * inverse, o3 * inverse);
            return;
        }

        WritePairs(split.Partial, (long)item * hd, d0, d2, hd, o0, o1, o2, o3);
        if (Warp.IsFirstLane)
        {
            split.Stats[2L * item] = max;
            split.Stats[(2L * item) + 1] = sum;
        }
    }

    /// <summary>
    /// Log-sum-exp merge of the splits of each (token, head): one warp per item, lanes own the same dimension
    /// pairs as <see cref="AttentionKernel"/>. Empty splits carry max = -∞, sum = 0 and weigh nothing; split 0
    /// always holds position 0, so the merged max is finite. // output (n_tokens, n_head, head_dim)
    /// </summary>
    internal static void CombineKernel(KvShape shape, SplitViews split, ArrayView<float> output)
    {
        var th = (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;
        if (th >= shape.Tokens * shape.Heads)
        {
            return;
        }

        var hd = shape.HeadDimension;
        var lane = Warp.LaneIdx;
        int d0 = 2 * lane, d2 = (2 * lane) + (2 * Warp.WarpSize);
        var first = (long)th * split.Splits;
        var max = float.NegativeInfinity;
        for (var s = 0; s < split.Splits; s++)
        {
            max = XMath.Max(max, split.Stats[2 * (first + s)]);
        }

        float sum = 0, o0 = 0, o1 = 0, o2 = 0, o3 = 0;
        for (var s = 0; s < split.Splits; s++)
        {
            var f = XMath.Exp(split.Stats[2 * (first + s)] - max);
            sum += f * split.Stats[(2 * (first + s)) + 1];
            var b = (first + s) * hd;
            o0 += d0 < hd ? f * split.Partial[b + d0] : 0f;
            o1 += d0 < hd ? f * split.Partial[b + d0 + 1] : 0f;
            o2 += d2 < hd ? f * split.Partial[b + d2] : 0f;
            o3 += d2 < hd ? f * split.Partial[b + d2 + 1] : 0f;
        }

        var inverse = 1f / sum;
        WritePairs(output, (long)th * hd, d0, d2, hd, o0 * inverse, o1 * inverse, o2 * inverse, o3 * inverse);
    }

    private static void WritePairs(ArrayView<float> target, long b, int d0, int d2, int hd, float o0, float o1, float o2, float o3)
    {
        if (d0 < hd)
        {
            target[b + d0] = o0;
            target[b + d0 + 1] = o1;
        }

        if (d2 < hd)
        {
            target[b + d2] = o2;
            target[b + d2 + 1] = o3;
        }
    }

    /// <summary>
    /// Element <paramref name="dim"/> of the head at <paramref name="head"/> after RoPE at <paramref name="position"/>,
    /// with the arithmetic of <see cref="ElementwiseKernels.RopeKernel"/> (normal: pairs (2i, 2i+1); NeoX: (i, i + half)).
    /// </summary>
    internal static float Rotated(ArrayView<float> x, long head, int dim, int position, RopeViews rope)
    {
        if (dim >= rope.Dimensions)
        {
            return x[head + dim];
        }

        var half = rope.Dimensions / 2;
        var pair = rope.NeoX != 0 ? (dim < half ? dim : dim - half) : dim >> 1;
        var a = rope.NeoX != 0 ? pair : 2 * pair;
        var b = rope.NeoX != 0 ? pair + half : a + 1;
        var angle = ((long)position * half) + pair;
        float c = rope.Cos[angle], s = rope.Sin[angle];
        float x0 = x[head + a], x1 = x[head + b];
        return dim == a ? (x0 * c) - (x1 * s) : (x0 * s) + (x1 * c);
    }

    internal static long Slot(BatchViews batch, KvShape shape, int token, int position)
    {
        var block = batch.Tables[batch.TableStarts[batch.Sequences[token]] + (position / shape.BlockSize)];
        return ((long)block * shape.BlockSize) + (position % shape.BlockSize);
    }

    // ---- launchers ----

    /// <summary>Stores the step's K (rotated by <paramref name="rope"/> when given) and V as f16 in their cache slots.</summary>
    public void StoreKv(ArrayView<float> k, ArrayView<float> v, KvShape shape, BatchViews batch, ArrayView<DeviceHalf> keys, ArrayView<DeviceHalf> values, RopeViews rope = default) =>
        StoreKv(k, v, shape, batch, KvCacheView.F16(keys), KvCacheView.F16(values), rope);

    /// <summary>Stores the step's K (rotated by <paramref name="rope"/> when given) and V in their cache slots, in the caches' element type.</summary>
    public void StoreKv(ArrayView<float> k, ArrayView<float> v, KvShape shape, BatchViews batch, KvCacheView keys, KvCacheView values, RopeViews rope = default)
    {
        var count = shape.Tokens * shape.KvHeads * shape.HeadDimension;
        _storeKv(new KernelConfig(Math.Max(1, (count + _groupSize - 1) / _groupSize), _groupSize), k, v, shape, batch, keys, values, rope);
    }

    /// <summary>
    /// Attention of every (token, head) over its sequence's cache. <paramref name="splits"/> &gt; 1 partitions each
    /// context into chunks of <c>ceil(max_length / splits)</c> positions (see <see cref="ChooseSplits"/>); the
    /// partials then need <c>n_tokens · n_head · splits · (head_dim + 2)</c> floats. Q is rotated by
    /// <paramref name="rope"/> as it is read (unrotated in <paramref name="q"/>), when given.
    /// </summary>
    public void Attention(ArrayView<float> q, KvShape shape, BatchViews batch, ArrayView<DeviceHalf> keys, ArrayView<DeviceHalf> values, ArrayView<float> output, int splits = 1, int maxLength = 0, ArrayView<float> partial = default, ArrayView<float> stats = default, RopeViews rope = default) =>
        Attention(q, shape, batch, KvCacheView.F16(keys), KvCacheView.F16(values), output, splits, maxLength, partial, stats, rope);

    /// <summary>As the f16 overload, over caches of any element type (<see cref="KvCacheView"/>).</summary>
    public void Attention(ArrayView<float> q, KvShape shape, BatchViews batch, KvCacheView keys, KvCacheView values, ArrayView<float> output, int splits = 1, int maxLength = 0, ArrayView<float> partial = default, ArrayView<float> stats = default, RopeViews rope = default)
    {
        var items = shape.Tokens * shape.Heads;
        splits = Math.Max(1, splits);
        var chunk = splits == 1 ? int.MaxValue : (maxLength + splits - 1) / splits;
        if (splits > 1 && (partial.Length < (long)items * splits * shape.HeadDimension || stats.Length < 2L * items * splits))
        {
            throw new ArgumentException($"{splits} splits of {items} items need larger partial buffers", nameof(partial));
        }

        var split = new SplitViews(splits, chunk, partial, stats);
        var groups = (((long)items * splits) + WarpsPerGroup - 1) / WarpsPerGroup;
        _attention(new KernelConfig((int)groups, WarpsPerGroup * _warpSize), q, shape, batch, keys, values, output, split, rope);
        if (splits > 1)
        {
            _combine(new KernelConfig((items + WarpsPerGroup - 1) / WarpsPerGroup, WarpsPerGroup * _warpSize), shape, split, output);
        }
    }

    /// <summary>
    /// Splits for a step of <paramref name="items"/> (token, head) pairs whose longest context is
    /// <paramref name="maxLength"/>: enough warps to fill the device (<see cref="TargetWarps"/>), each split at
    /// least <see cref="MinChunk"/> positions, at most <see cref="MaxSplits"/>; one for prefill-sized steps.
    /// </summary>
    public int ChooseSplits(int tokens, int items, int maxLength)
    {
        if (tokens > SplitTokenLimit || items >= TargetWarps)
        {
            return 1;
        }

        var byOccupancy = (TargetWarps + items - 1) / items;
        var byLength = maxLength / MinChunk;
        return Math.Clamp(Math.Min(byOccupancy, byLength), 1, MaxSplits);
    }

    /// <summary>Warps that keep the device's multiprocessors busy (16 per multiprocessor).</summary>
    public int TargetWarps { get; }

    /// <summary>Fewest positions per split: 64 on a GPU; 4 on the CPU accelerator so small models exercise the split path.</summary>
    public int MinChunk { get; }

    /// <summary>Whether a head dimension fits the attention kernel's per-lane accumulators.</summary>
    public bool SupportsHeadDimension(int headDimension) => headDimension % 2 == 0 && headDimension <= DimsPerLane * _warpSize;
}
