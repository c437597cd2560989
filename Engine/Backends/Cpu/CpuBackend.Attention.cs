using System.Numerics.Tensors;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>The CPU backend's KV cache writes and paged attention, over an f32, f16 or fp8 cache.</summary>
internal sealed unsafe partial class CpuBackend
{
    [ThreadStatic]
    private static float[]? t_scores;

    [ThreadStatic]
    private static float[]? t_kvRow;

    public void StoreKv(float[] keys, float[] values, ForwardBatch batch, PagedKvStorage storage, int layer)
    {
        var stride = storage.TokenStride;
        for (var t = 0; t < batch.Count; t++)
        {
            var offset = storage.Offset(batch.BlockTableOf(t), batch.Positions[t]);
            storage.Store(layer, offset, keys.AsSpan(t * stride, stride), values.AsSpan(t * stride, stride));
        }
    }

    /// <summary>Tokens of one sequence that share a work item (and one conversion of their K/V rows).</summary>
    private const int AttentionChunk = 8;

    /// <summary>Key or value rows gathered at a time, so the scratch stays small whatever the context length.</summary>
    private const int GatherRows = 256;

    /// <summary>
    /// Work items are (run of up to <see cref="AttentionChunk"/> consecutive tokens of one sequence, KV head): the
    /// item gathers the KV head's key and value rows once, <see cref="GatherRows"/> positions at a time (converting
    /// f16 to f32), and every query head of the group, for every token of the run, reads them there, rather than each
    /// (token, head) converting the rows again. Each
    /// output is still the same sequence of operations over the same f32 values (dot, softmax in position order, scaled
    /// sums in position order), so it does not depend on the batch or on how tokens were grouped.
    /// </summary>
    public void Attention(float[] queries, ForwardBatch batch, PagedKvStorage storage, int layer, int heads, float[] output)
    {
        var hd = storage.HeadDimension;
        var kvHeads = storage.KvHeadCount;
        var group = heads / kvHeads;
        var scale = 1f / MathF.Sqrt(hd);
        var type = storage.DataType;
        var keys = type == KvCacheDataType.F32 ? storage.Keys(layer) : null;
        var values = type == KvCacheDataType.F32 ? storage.Values(layer) : null;
        var halfKeys = type == KvCacheDataType.F16 ? storage.HalfKeys(layer) : null;
        var halfValues = type == KvCacheDataType.F16 ? storage.HalfValues(layer) : null;
        var fp8Keys = type == KvCacheDataType.Fp8 ? storage.Fp8Keys(layer) : null;
        var fp8Values = type == KvCacheDataType.Fp8 ? storage.Fp8Values(layer) : null;
        var positions = batch.Positions.ToArray();
        var sequences = batch.SequenceIndices.ToArray();
        var tables = new int[batch.Count][];
        var runs = new List<int> { 0 }; // token index where each run starts, then the end
        for (var t = 0; t < tables.Length; t++)
        {
            tables[t] = batch.BlockTableOf(t);
            storage.Offset(tables[t], positions[t]); // validates the table covers the position
            if (t > 0 && (sequences[t] != sequences[t - 1] || t - runs[^1] == AttentionChunk))
            {
                runs.Add(t);
            }
        }

        runs.Add(tables.Length);
        var starts = runs.ToArray();
        var runCount = starts.Length - 1;
        RunParallel(runCount * kvHeads, (long)batch.Count * heads * (positions.Max() + 1) * hd * 2 >= SerialWorkLimit, item =>
        {
            var run = item / kvHeads;
            var kvHead = item % kvHeads;
            var (first, end) = (starts[run], starts[run + 1]);
            var length = 0;
            for (var t = first; t < end; t++)
            {
                length = Math.Max(length, positions[t] + 1);
            }

            var heads0 = kvHead * group;
            var outputs = (end - first) * group;
            var scoresLength = outputs * length; // (token of the run, head of the group, position)
            var scores = t_scores is { } s && s.Length >= scoresLength ? s : t_scores = GC.AllocateUninitializedArray<float>(Math.Max(scoresLength, 4096), pinned: true);
            var rows = t_kvRow is { } r && r.Length >= GatherRows * hd ? r : t_kvRow = GC.AllocateUninitializedArray<float>(GatherRows * hd, pinned: true);
            var sums = stackalloc float[outputs];
            var table = tables[first];
            var kvOffset = kvHead * hd;
            var blockSize = storage.BlockSize;
            var stride = storage.TokenStride;
            fixed (float* q0 = queries)
            fixed (float* out0 = output)
            fixed (float* k0 = keys)
            fixed (float* v0 = values)
            fixed (Half* hk0 = halfKeys)
            fixed (Half* hv0 = halfValues)
            fixed (byte* bk0 = fp8Keys)
            fixed (byte* bv0 = fp8Values)
            fixed (float* gathered = rows)
            fixed (float* score0 = scores)
            {
                // Scores, position tile by position tile: each tile's key rows gathered (and converted) once.
                for (var p0 = 0; p0 < length; p0 += GatherRows)
                {
                    var p1 = Math.Min(length, p0 + GatherRows);
                    Gather(new KvRows(k0, hk0, bk0), table, blockSize, stride, kvOffset, hd, p0, p1, gathered);
                    for (var i = 0; i < outputs; i++)
                    {
                        var t = first + (i / group);
                        var q = q0 + ((((long)t * heads) + heads0 + (i % group)) * hd);
                        var row = score0 + ((long)i * length);
                        SimdKernels.DotRows(q, gathered, Math.Min(p1, positions[t] + 1) - p0, hd, scale, row + p0);
                    }
                }

                for (var i = 0; i < outputs; i++)
                {
                    var t = first + (i / group);
                    var row = score0 + ((long)i * length);
                    // Vectorized; the operations' order depends only on the row's length (the token's position), so an
                    // output still does not depend on the batch.
                    var weights = new Span<float>(row, positions[t] + 1);
                    TensorPrimitives.Subtract(weights, TensorPrimitives.Max(weights), weights);
                    TensorPrimitives.Exp(weights, weights);
                    sums[i] = TensorPrimitives.Sum(weights);
                    new Span<float>(out0 + ((((long)t * heads) + heads0 + (i % group)) * hd), hd).Clear();
                }

                // The weighted values, in position order, tile by tile.
                for (var p0 = 0; p0 < length; p0 += GatherRows)
                {
                    var p1 = Math.Min(length, p0 + GatherRows);
                    Gather(new KvRows(v0, hv0, bv0), table, blockSize, stride, kvOffset, hd, p0, p1, gathered);
                    for (var i = 0; i < outputs; i++)
                    {
                        var t = first + (i / group);
                        var o = out0 + ((((long)t * heads) + heads0 + (i % group)) * hd);
                        var row = score0 + ((long)i * length);
                        var count = Math.Min(p1, positions[t] + 1) - p0;
                        if (count > 0)
                        {
                            SimdKernels.AddScaledRows(o, gathered, row + p0, count, hd);
                        }
                    }
                }

                for (var i = 0; i < outputs; i++)
                {
                    var t = first + (i / group);
                    var o = new Span<float>(out0 + ((((long)t * heads) + heads0 + (i % group)) * hd), hd);
                    TensorPrimitives.Multiply(o, 1f / sums[i], o);
                }
            }
        });
    }

    /// <summary>
    /// Rows [p0, p1) of one KV head as f32, one after another. // cache (positions, kv_heads · hd) → rows (p1 − p0, hd)
    /// Walks the positions block by block, so a row's offset is the last one plus the token stride (a division per row
    /// and a branch on the element type per row cost about as much as converting a 64-element head); the f16 row
    /// conversion is inlined into the loop.
    /// </summary>
    private static void Gather(KvRows cache, int[] table, int blockSize, int stride, int kvOffset, int hd, int p0, int p1, float* rows)
    {
        for (var p = p0; p < p1;)
        {
            var block = p / blockSize;
            var end = Math.Min(p1, (block + 1) * blockSize);
            var offset = ((((long)table[block] * blockSize) + (p - (block * blockSize))) * stride) + kvOffset;
            var count = end - p;
            if (cache.Half is not null)
            {
                for (var i = 0; i < count; i++, rows += hd, offset += stride)
                {
                    HalfConversion.HalfToSingle((ushort*)(cache.Half + offset), rows, hd);
                }
            }
            else if (cache.Fp8 is not null)
            {
                for (var i = 0; i < count; i++, rows += hd, offset += stride)
                {
                    PagedKvStorage.DecodeFp8(new ReadOnlySpan<byte>(cache.Fp8 + offset, hd), new Span<float>(rows, hd));
                }
            }
            else
            {
                for (var i = 0; i < count; i++, rows += hd, offset += stride)
                {
                    new ReadOnlySpan<float>(cache.Single + offset, hd).CopyTo(new Span<float>(rows, hd));
                }
            }

            p = end;
        }
    }

    // One layer's keys or values: exactly one pointer is set, per the storage's element type.
    private readonly struct KvRows(float* single, Half* half, byte* fp8)
    {
        public float* Single { get; } = single;

        public Half* Half { get; } = half;

        public byte* Fp8 { get; } = fp8;
    }
}
