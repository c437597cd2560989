using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Moves whole KV blocks in one launch each: a block is <c>2 × layers</c> runs of <c>block_size × kv_length</c>
/// elements spread over the paged cache, and copying them run by run costs one driver call (and one wait) each —
/// 160 for an 80-layer model. Packing them into a contiguous buffer on the device turns a block read or write
/// into one kernel and one host copy, and a fork into one kernel. The kernels move 16-bit words, whatever the cache's
/// element type: one f16, or two fp8 e4m3 bytes (a run is always an even number of elements, as head_dim is even),
/// so the bytes a block carries are exactly the bytes the cache holds.
/// </summary>
internal sealed class KvBlockKernels
{
    private readonly int _groupSize;
    private readonly Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, KvBlockShape, ArrayView<ushort>> _pack;
    private readonly Action<KernelConfig, ArrayView<ushort>, KvBlockShape, ArrayView<ushort>, ArrayView<ushort>> _unpack;
    private readonly Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, KvBlockShape> _copy;

    public KvBlockKernels(Accelerator accelerator)
    {
        _groupSize = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        _pack = accelerator.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, KvBlockShape, ArrayView<ushort>>(PackBlockKernel);
        _unpack = accelerator.LoadStreamKernel<ArrayView<ushort>, KvBlockShape, ArrayView<ushort>, ArrayView<ushort>>(UnpackBlockKernel);
        _copy = accelerator.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, KvBlockShape>(CopyBlockKernel);
    }

    /// <summary>
    /// A block of the paged cache (layers, blocks, span), in 16-bit words: <paramref name="Span"/> words per layer and
    /// block (block_size × kv_length elements), <paramref name="LayerElements"/> words per layer; <paramref name="Block"/> is
    /// the block read or written, <paramref name="Destination"/> the target of a copy.
    /// </summary>
    internal readonly record struct KvBlockShape(int Layers, int Span, long LayerElements, int Block, int Destination = 0)
    {
        /// <summary>Words in a packed block. // (layers, 2, span)</summary>
        public int Count => 2 * Layers * Span;
    }

    // ---- kernels ----

    /// <summary>packed[l, 0|1, e] = keys|values[l, block, e]. One thread per packed element. // packed (layers, 2, span)</summary>
    internal static void PackBlockKernel(ArrayView<ushort> keys, ArrayView<ushort> values, KvBlockShape shape, ArrayView<ushort> packed)
    {
        var i = Grid.GlobalIndex.X;
        if (i >= shape.Count)
        {
            return;
        }

        var at = CacheIndex(shape, shape.Block, i, out var isValue);
        packed[i] = isValue ? values[at] : keys[at];
    }

    /// <summary>keys|values[l, block, e] = packed[l, 0|1, e]. // packed (layers, 2, span)</summary>
    internal static void UnpackBlockKernel(ArrayView<ushort> packed, KvBlockShape shape, ArrayView<ushort> keys, ArrayView<ushort> values)
    {
        var i = Grid.GlobalIndex.X;
        if (i >= shape.Count)
        {
            return;
        }

        var at = CacheIndex(shape, shape.Block, i, out var isValue);
        if (isValue)
        {
            values[at] = packed[i];
        }
        else
        {
            keys[at] = packed[i];
        }
    }

    /// <summary>keys|values[l, destination, e] = keys|values[l, block, e] (copy-on-write forks).</summary>
    internal static void CopyBlockKernel(ArrayView<ushort> keys, ArrayView<ushort> values, KvBlockShape shape)
    {
        var i = Grid.GlobalIndex.X;
        if (i >= shape.Count)
        {
            return;
        }

        var from = CacheIndex(shape, shape.Block, i, out var isValue);
        var to = CacheIndex(shape, shape.Destination, i, out _);
        if (isValue)
        {
            values[to] = values[from];
        }
        else
        {
            keys[to] = keys[from];
        }
    }

    // Packed element i = (layer, K/V, e) → its index in the cache of K or V at block.
    private static long CacheIndex(KvBlockShape shape, int block, int i, out bool isValue)
    {
        var perLayer = 2 * shape.Span;
        var layer = i / perLayer;
        var rest = i - (layer * perLayer);
        isValue = rest >= shape.Span;
        var e = isValue ? rest - shape.Span : rest;
        return (layer * shape.LayerElements) + ((long)block * shape.Span) + e;
    }

    // ---- launchers ----

    public void Pack(ArrayView<ushort> keys, ArrayView<ushort> values, KvBlockShape shape, ArrayView<ushort> packed) =>
        _pack(Flat(shape.Count), keys, values, shape, packed);

    public void Unpack(ArrayView<ushort> packed, KvBlockShape shape, ArrayView<ushort> keys, ArrayView<ushort> values) =>
        _unpack(Flat(shape.Count), packed, shape, keys, values);

    public void Copy(ArrayView<ushort> keys, ArrayView<ushort> values, KvBlockShape shape) => _copy(Flat(shape.Count), keys, values, shape);

    private KernelConfig Flat(int count) => new(Math.Max(1, (count + _groupSize - 1) / _groupSize), _groupSize);
}
