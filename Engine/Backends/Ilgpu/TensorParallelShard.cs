using System.Runtime.InteropServices;
using Fathom.Engine.Quantization;
using Fathom.Gguf;
using Fathom.Engine.Model;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Shard <c>d</c> of <c>T</c> of a Megatron-style tensor-parallel split: the rows of <c>attn_q</c> for query heads
/// <c>[d·H/T, (d+1)·H/T)</c>, of <c>attn_k</c>/<c>attn_v</c> (and the q/k/v biases) for KV heads
/// <c>[d·Hkv/T, (d+1)·Hkv/T)</c>, the matching column slice of <c>attn_output</c>; rows <c>[d·F/T, (d+1)·F/T)</c>
/// of <c>ffn_gate</c>/<c>ffn_up</c> and that column slice of <c>ffn_down</c>. Embedding, norms and output are
/// shared. Row slices point into the mapped file; column slices are copied (a quantized row is cut at block
/// boundaries) into native memory this shard owns until it is disposed — after the upload.
/// </summary>
internal sealed unsafe class TensorParallelShard : IDisposable
{
    private readonly List<nint> _allocations = [];

    private TensorParallelShard(LlamaHyperParameters hp, LlamaWeights weights, int shards, int index)
    {
        HyperParameters = hp with
        {
            HeadCount = hp.HeadCount / shards,
            KvHeadCount = hp.KvHeadCount / shards,
            FeedForwardLength = hp.FeedForwardLength / shards,
        };
        var q = HyperParameters.QueryLength;
        var kv = HyperParameters.KvLength;
        var ff = HyperParameters.FeedForwardLength;
        var layers = new LlamaLayerWeights[weights.Layers.Count];
        for (var l = 0; l < layers.Length; l++)
        {
            var w = weights.Layers[l];
            layers[l] = new LlamaLayerWeights
            {
                AttentionNorm = w.AttentionNorm,
                Query = Rows(w.Query, index * q, q),              // (n_head / T * head_dim, n_embd)
                Key = Rows(w.Key, index * kv, kv),                // (n_head_kv / T * head_dim, n_embd)
                Value = Rows(w.Value, index * kv, kv),            // (n_head_kv / T * head_dim, n_embd)
                QueryBias = w.QueryBias?[(index * q)..((index + 1) * q)],
                KeyBias = w.KeyBias?[(index * kv)..((index + 1) * kv)],
                ValueBias = w.ValueBias?[(index * kv)..((index + 1) * kv)],
                Output = Columns(w.Output, index * q, q),         // (n_embd, n_head / T * head_dim)
                FeedForwardNorm = w.FeedForwardNorm,
                Gate = Rows(w.Gate, index * ff, ff),              // (n_ff / T, n_embd)
                Up = Rows(w.Up, index * ff, ff),                  // (n_ff / T, n_embd)
                Down = Columns(w.Down, index * ff, ff),           // (n_embd, n_ff / T)
            };
        }

        Weights = new LlamaWeights(weights.TokenEmbedding, weights.OutputNorm, weights.Output, weights.RopeDivisors, layers);
    }

    /// <summary>The shard's shape: heads, KV heads and feed-forward width divided by the shard count.</summary>
    public LlamaHyperParameters HyperParameters { get; }

    /// <summary>The shard's weights (valid until <see cref="Dispose"/>).</summary>
    public LlamaWeights Weights { get; }

    /// <summary>Slices shard <paramref name="index"/> of <paramref name="shards"/> (call <see cref="Validate"/> first).</summary>
    public static TensorParallelShard Create(LlamaHyperParameters hp, LlamaWeights weights, int shards, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, shards);
        return new TensorParallelShard(hp, weights, shards, index);
    }

    /// <summary>Checks that the model splits over <paramref name="shards"/> devices.</summary>
    /// <exception cref="TensorParallelSplitException">A head count or the feed-forward width is not divisible, or a column slice of a quantized matrix would cut a block.</exception>
    public static void Validate(LlamaHyperParameters hp, LlamaWeights weights, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        void Divides(int count, string what)
        {
            if (count % shards != 0)
            {
                throw new TensorParallelSplitException($"tensor parallelism {shards} does not divide the {count} {what}; use a device count that does");
            }
        }

        Divides(hp.HeadCount, "attention heads");
        Divides(hp.KvHeadCount, "KV heads (GQA groups stay whole on one device)");
        Divides(hp.FeedForwardLength, "feed-forward columns (n_ff)");
        foreach (var w in weights.Layers)
        {
            CheckColumnSlice(w.Output, hp.QueryLength / shards, shards);
            CheckColumnSlice(w.Down, hp.FeedForwardLength / shards, shards);
        }
    }

    public void Dispose()
    {
        foreach (var p in _allocations)
        {
            NativeMemory.Free((void*)p);
        }

        _allocations.Clear();
    }

    private static void CheckColumnSlice(WeightMatrix w, int width, int shards)
    {
        if (w.Type == CheckpointTypes.Fp8Rows || w.ColumnOrder is not null)
        {
            throw new TensorParallelSplitException($"{w.Name} ({CheckpointTypes.Name(w.Type)}) cannot be sliced by columns: its rows carry their scale (or a column order) with them");
        }

        var block = CheckpointTypes.BlockSize(w.Type);
        if (width % block != 0)
        {
            throw new TensorParallelSplitException(
                $"tensor parallelism {shards} would cut {w.Name} ({w.Type}, {w.Columns} columns) into slices of {width} columns, which is not a multiple of its {block}-element quantization block");
        }

        if (w.Type is GgmlType.F16 or GgmlType.BF16 && width % 2 != 0)
        {
            throw new TensorParallelSplitException(
                $"tensor parallelism {shards} would cut {w.Name} ({w.Type}) into slices of {width} columns; the device kernels read {w.Type} in pairs and need an even width");
        }

        if (w.Interleaved)
        {
            throw new TensorParallelSplitException($"{w.Name} is stored interleaved and cannot be sliced by columns");
        }
    }

    // Rows [start, start + count): whole rows are contiguous, so the slice is a pointer into the original.
    private static WeightMatrix Rows(WeightMatrix w, int start, int count) =>
        new(w.Name, w.Type, w.Row(start), w.Columns, count, columnOrder: w.ColumnOrder);

    // Columns [start, start + count) of every row, copied; start and count are whole blocks (see Validate).
    private WeightMatrix Columns(WeightMatrix w, int start, int count)
    {
        var offset = CheckpointTypes.RowBytes(w.Type, start); // bytes of the whole blocks before the slice
        var rowBytes = CheckpointTypes.RowBytes(w.Type, count);
        var total = rowBytes * w.Rows;
        var data = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, total));
        _allocations.Add((nint)data);
        for (var r = 0; r < w.Rows; r++)
        {
            Buffer.MemoryCopy(w.Row(r) + offset, data + (r * rowBytes), rowBytes, rowBytes);
        }

        return new WeightMatrix(w.Name, w.Type, data, count, w.Rows);
    }
}
