using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The paged KV cache on the device: storing each token's K and V (as f16) in its sequence's blocks, and causal
/// grouped-query attention over them. Cache layout per tensor: // (layers, blocks, block_size, n_head_kv, head_dim).
/// A sequence's block table lives at <c>tables[tableStart[s] ..]</c>; position p sits in block
/// <c>tables[tableStart[s] + p / block_size]</c>, slot <c>p % block_size</c>.
/// </summary>
internal sealed class AttentionKernels
{
    /// <summary>Head dimensions each lane accumulates; head_dim ≤ this × warp size.</summary>
    public const int DimsPerLane = 4;

    private const int WarpsPerGroup = 4;

    private readonly int _warpSize;
    private readonly int _groupSize;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, KvShape, BatchViews, ArrayView<DeviceHalf>, ArrayView<DeviceHalf>> _storeKv;
    private readonly Action<KernelConfig, ArrayView<float>, KvShape, BatchViews, ArrayView<DeviceHalf>, ArrayView<DeviceHalf>, ArrayView<float>> _attention;

    public AttentionKernels(Accelerator accelerator)
    {
        _warpSize = accelerator.WarpSize;
        _groupSize = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        _storeKv = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, KvShape, BatchViews, ArrayView<DeviceHalf>, ArrayView<DeviceHalf>>(StoreKvKernel);
        _attention = accelerator.LoadStreamKernel<ArrayView<float>, KvShape, BatchViews, ArrayView<DeviceHalf>, ArrayView<DeviceHalf>, ArrayView<float>>(AttentionKernel);
    }

    /// <summary>Cache geometry of one layer: <see cref="LayerOffset"/> is the layer's first element.</summary>
    internal readonly record struct KvShape(int Tokens, int Heads, int KvHeads, int HeadDimension, int BlockSize, long LayerOffset, float Scale);

    /// <summary>The step's token positions, sequence indices and block tables, on the device.</summary>
    internal readonly record struct BatchViews(ArrayView<int> Positions, ArrayView<int> Sequences, ArrayView<int> TableStarts, ArrayView<int> Tables);

    // ---- kernels ----

    /// <summary>One thread per (token, kv element). // k, v (n_tokens, n_head_kv * head_dim)</summary>
    internal static void StoreKvKernel(ArrayView<float> k, ArrayView<float> v, KvShape shape, BatchViews batch, ArrayView<DeviceHalf> keys, ArrayView<DeviceHalf> values)
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
        keys[destination] = (DeviceHalf)k[index];
        values[destination] = (DeviceHalf)v[index];
    }

    /// <summary>
    /// One warp per (token, head), for decode and prefill alike: the positions 0..pos of the token's sequence are
    /// visited in order with an online softmax (running max and sum), each lane owning up to
    /// <see cref="DimsPerLane"/> dimensions of the output. // q, output (n_tokens, n_head, head_dim)
    /// </summary>
    internal static void AttentionKernel(ArrayView<float> q, KvShape shape, BatchViews batch, ArrayView<DeviceHalf> keys, ArrayView<DeviceHalf> values, ArrayView<float> output)
    {
        var item = (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;
        if (item >= shape.Tokens * shape.Heads)
        {
            return;
        }

        var t = item / shape.Heads;
        var head = item % shape.Heads;
        var hd = shape.HeadDimension;
        var kvHead = head / (shape.Heads / shape.KvHeads);
        var stride = shape.KvHeads * hd;
        var lane = Warp.LaneIdx;
        var w = Warp.WarpSize;
        var qBase = (long)item * hd;
        int d0 = lane, d1 = lane + w, d2 = lane + (2 * w), d3 = lane + (3 * w);
        var q0 = d0 < hd ? q[qBase + d0] : 0f;
        var q1 = d1 < hd ? q[qBase + d1] : 0f;
        var q2 = d2 < hd ? q[qBase + d2] : 0f;
        var q3 = d3 < hd ? q[qBase + d3] : 0f;
        float o0 = 0, o1 = 0, o2 = 0, o3 = 0;
        var max = float.NegativeInfinity;
        float sum = 0;
        var length = batch.Positions[t] + 1;
        for (var p = 0; p < length; p++)
        {
            var kBase = shape.LayerOffset + (Slot(batch, shape, t, p) * stride) + ((long)kvHead * hd);
            var partial = 0f;
            if (d0 < hd)
            {
                partial += q0 * (float)keys[kBase + d0];
            }

            if (d1 < hd)
            {
                partial += q1 * (float)keys[kBase + d1];
            }

            if (d2 < hd)
            {
                partial += q2 * (float)keys[kBase + d2];
            }

            if (d3 < hd)
            {
                partial += q3 * (float)keys[kBase + d3];
            }

            var score = WarpExtensions.AllReduce<float, AddFloat>(partial) * shape.Scale;
            var newMax = XMath.Max(max, score);
            var correction = XMath.Exp(max - newMax);
            var weight = XMath.Exp(score - newMax);
            sum = (sum * correction) + weight;
            max = newMax;
            o0 = (o0 * correction) + (d0 < hd ? weight * (float)values[kBase + d0] : 0f);
            o1 = (o1 * correction) + (d1 < hd ? weight * (float)values[kBase + d1] : 0f);
            o2 = (o2 * correction) + (d2 < hd ? weight * (float)values[kBase + d2] : 0f);
            o3 = (o3 * correction) + (d3 < hd ? weight * (float)values[kBase + d3] : 0f);
        }

        var inverse = 1f / sum;
        if (d0 < hd)
        {
            output[qBase + d0] = o0 * inverse;
        }

        if (d1 < hd)
        {
            output[qBase + d1] = o1 * inverse;
        }

        if (d2 < hd)
        {
            output[qBase + d2] = o2 * inverse;
        }

        if (d3 < hd)
        {
            output[qBase + d3] = o3 * inverse;
        }
    }

    private static long Slot(BatchViews batch, KvShape shape, int token, int position)
    {
        var block = batch.Tables[batch.TableStarts[batch.Sequences[token]] + (position / shape.BlockSize)];
        return ((long)block * shape.BlockSize) + (position % shape.BlockSize);
    }

    // ---- launchers ----

    public void StoreKv(ArrayView<float> k, ArrayView<float> v, KvShape shape, BatchViews batch, ArrayView<DeviceHalf> keys, ArrayView<DeviceHalf> values)
    {
        var count = shape.Tokens * shape.KvHeads * shape.HeadDimension;
        _storeKv(new KernelConfig(Math.Max(1, (count + _groupSize - 1) / _groupSize), _groupSize), k, v, shape, batch, keys, values);
    }

    public void Attention(ArrayView<float> q, KvShape shape, BatchViews batch, ArrayView<DeviceHalf> keys, ArrayView<DeviceHalf> values, ArrayView<float> output)
    {
        var items = shape.Tokens * shape.Heads;
        _attention(new KernelConfig((items + WarpsPerGroup - 1) / WarpsPerGroup, WarpsPerGroup * _warpSize), q, shape, batch, keys, values, output);
    }

    /// <summary>Whether a head dimension fits the attention kernel's per-lane accumulators.</summary>
    public bool SupportsHeadDimension(int headDimension) => headDimension <= DimsPerLane * _warpSize;
}
