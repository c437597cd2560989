using System.Numerics.Tensors;
using System.Runtime.Intrinsics.X86;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>The CPU backend's KV cache writes and paged attention, over an f32, f16 or fp8 cache.</summary>
internal sealed unsafe partial class CpuBackend
{
    [ThreadStatic]
    private static float[]? t_scores;

    [ThreadStatic]
    private static float[]? t_kvRow;

    [ThreadStatic]
    private static float[]? t_paired;

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

    /// <summary>f32 elements of gathered key or value rows per tile (64 KiB), so the scratch stays small whatever the context.</summary>
    private const int GatherElements = 16 * 1024;

    /// <summary>Score floats one work item may hold (16 MiB), which bounds how many KV heads it takes at long contexts.</summary>
    private const long ScoreBudget = 4L * 1024 * 1024;

    /// <summary>
    /// Work items are (run of up to <see cref="AttentionChunk"/> consecutive tokens of one sequence, span of adjacent KV
    /// heads): the item gathers its heads' key and value rows once, a tile of positions at a time (converting f16 to
    /// f32), and every query head of those KV heads, for every token of the run, reads them there, rather than each
    /// (token, head) converting the rows again. A position's KV heads sit next to each other in the cache, so an item
    /// with several heads reads contiguous memory where one head alone reads 128 bytes of every kilobyte (the memory
    /// then waits on each row); an item takes as many heads as still leaves every thread an item.
    /// Each output is still the same sequence of operations over the same f32 values (dot, softmax in position order,
    /// scaled sums in position order), so it does not depend on the batch, on how tokens were grouped, or on the span.
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
        var longest = positions.Max() + 1;
        var span = HeadSpan(kvHeads, runCount, ThreadCount, (long)Math.Min(AttentionChunk, tables.Length) * group * longest);
        var spans = kvHeads / span;
        var tileRows = Math.Max(1, GatherElements / (span * hd));
        var paired = type == KvCacheDataType.F16 && F16Pairs.Fits(hd); // f16 rows convert in pair order (F16Pairs)
        RunParallel(runCount * spans, (long)batch.Count * heads * longest * hd * 2 >= SerialWorkLimit, item =>
        {
            var run = item / spans;
            var kvHead0 = (item % spans) * span;
            var (first, end) = (starts[run], starts[run + 1]);
            var length = 0;
            for (var t = first; t < end; t++)
            {
                length = Math.Max(length, positions[t] + 1);
            }

            var perHead = (end - first) * group; // output rows per KV head: (token of the run, head of the group)
            var outputs = perHead * span;
            var scoresLength = outputs * length; // (KV head of the span, token of the run, head of the group, position)
            var scores = t_scores is { } s && s.Length >= scoresLength ? s : t_scores = GC.AllocateUninitializedArray<float>(Math.Max(scoresLength, 4096), pinned: true);
            var rows = t_kvRow is { } r && r.Length >= tileRows * span * hd ? r : t_kvRow = GC.AllocateUninitializedArray<float>(tileRows * span * hd, pinned: true);
            var sums = stackalloc float[outputs];
            var pairs = !paired ? null : t_paired is { } pr && pr.Length >= 2 * outputs * hd ? pr : t_paired = GC.AllocateUninitializedArray<float>(2 * outputs * hd, pinned: true);
            var table = tables[first];
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
            fixed (float* pairs0 = pairs)
            {
                // Output row i: KV head kvHead0 + i / perHead, token first + (i % perHead) / group, query head of the group i % group.
                float* Query(float* x, int i) => x + ((((long)(first + ((i % perHead) / group)) * heads) + ((kvHead0 + (i / perHead)) * group) + (i % group)) * hd);
                int Position(int i) => positions[first + ((i % perHead) / group)];

                // With f16 rows in pair order, the queries and the weighted sums are taken in that order too: pairs0 holds
                // (outputs, hd) permuted queries, then (outputs, hd) accumulators, joined back into the output at the end.
                float* QueryRow(float* x, float* permuted, int i) => permuted is null ? Query(x, i) : permuted + ((long)i * hd);
                float* Accumulator(float* x, float* permuted, int i) => permuted is null ? Query(x, i) : permuted + ((long)(outputs + i) * hd);
                for (var i = 0; pairs0 is not null && i < outputs; i++)
                {
                    F16Pairs.Split(Query(q0, i), QueryRow(q0, pairs0, i), hd);
                }

                // Scores, position tile by position tile: each tile's key rows gathered (and converted) once.
                for (var p0 = 0; p0 < length; p0 += tileRows)
                {
                    var p1 = Math.Min(length, p0 + tileRows);
                    Gather(new KvRows(k0, hk0, bk0), table, blockSize, stride, kvHead0 * hd, span, hd, p0, p1, gathered, paired);
                    for (var i = 0; i < outputs; i++)
                    {
                        var headRows = gathered + ((long)(i / perHead) * (p1 - p0) * hd);
                        var row = score0 + ((long)i * length);
                        SimdKernels.DotRows(QueryRow(q0, pairs0, i), headRows, Math.Min(p1, Position(i) + 1) - p0, hd, scale, row + p0);
                    }
                }

                for (var i = 0; i < outputs; i++)
                {
                    var row = score0 + ((long)i * length);
                    // Vectorized; the operations' order depends only on the row's length (the token's position), so an
                    // output still does not depend on the batch.
                    var weights = new Span<float>(row, Position(i) + 1);
                    TensorPrimitives.Subtract(weights, TensorPrimitives.Max(weights), weights);
                    TensorPrimitives.Exp(weights, weights);
                    sums[i] = TensorPrimitives.Sum(weights);
                    new Span<float>(Accumulator(out0, pairs0, i), hd).Clear();
                }

                // The weighted values, in position order, tile by tile.
                for (var p0 = 0; p0 < length; p0 += tileRows)
                {
                    var p1 = Math.Min(length, p0 + tileRows);
                    Gather(new KvRows(v0, hv0, bv0), table, blockSize, stride, kvHead0 * hd, span, hd, p0, p1, gathered, paired);
                    for (var i = 0; i < outputs; i++)
                    {
                        var headRows = gathered + ((long)(i / perHead) * (p1 - p0) * hd);
                        var row = score0 + ((long)i * length);
                        var count = Math.Min(p1, Position(i) + 1) - p0;
                        if (count > 0)
                        {
                            SimdKernels.AddScaledRows(Accumulator(out0, pairs0, i), headRows, row + p0, count, hd);
                        }
                    }
                }

                for (var i = 0; i < outputs; i++)
                {
                    if (pairs0 is null)
                    {
                        var o = new Span<float>(Query(out0, i), hd);
                        TensorPrimitives.Multiply(o, 1f / sums[i], o);
                    }
                    else
                    {
                        F16Pairs.Join(Accumulator(out0, pairs0, i), Query(out0, i), hd, 1f / sums[i]);
                    }
                }
            }
        });
    }

    /// <summary>
    /// KV heads per work item: the most (a divisor of <paramref name="kvHeads"/>) that still gives every thread an item
    /// and keeps the item's scores within <see cref="ScoreBudget"/>.
    /// </summary>
    internal static int HeadSpan(int kvHeads, int runs, int threads, long scoresPerHead)
    {
        for (var span = kvHeads; span > 1; span--)
        {
            if (kvHeads % span == 0 && (long)runs * (kvHeads / span) >= threads && span * scoresPerHead <= ScoreBudget)
            {
                return span;
            }
        }

        return 1;
    }

    /// <summary>
    /// Rows [p0, p1) of <paramref name="span"/> adjacent KV heads as f32, head by head. // cache (positions, kv_heads · hd) → rows (span, p1 − p0, hd)
    /// Walks the positions block by block, so a row's offset is the last one plus the token stride (a division per row
    /// and a branch on the element type per row cost about as much as converting a 64-element head); the f16 row
    /// conversion is inlined into the loop.
    /// </summary>
    private static void Gather(KvRows cache, int[] table, int blockSize, int stride, int kvOffset, int span, int hd, int p0, int p1, float* rows, bool paired)
    {
        var headStride = (long)(p1 - p0) * hd; // between one head's rows and the next head's
        for (var p = p0; p < p1;)
        {
            var block = p / blockSize;
            var end = Math.Min(p1, (block + 1) * blockSize);
            var offset = ((((long)table[block] * blockSize) + (p - (block * blockSize))) * stride) + kvOffset;
            var count = end - p;
            var destination = rows + ((long)(p - p0) * hd);
            if (end < p1)
            {
                Prefetch(cache, (long)table[block + 1] * blockSize * stride, Math.Min(blockSize, p1 - end), stride, kvOffset, span * hd);
            }

            if (cache.Half is not null && paired)
            {
                for (var i = 0; i < count; i++, destination += hd, offset += stride)
                {
                    for (var h = 0; h < span; h++)
                    {
                        F16Pairs.ToSingle((ushort*)(cache.Half + offset + (h * hd)), destination + (h * headStride), hd);
                    }
                }
            }
            else if (cache.Half is not null)
            {
                for (var i = 0; i < count; i++, destination += hd, offset += stride)
                {
                    for (var h = 0; h < span; h++)
                    {
                        HalfConversion.HalfToSingle((ushort*)(cache.Half + offset + (h * hd)), destination + (h * headStride), hd);
                    }
                }
            }
            else if (cache.Fp8 is not null)
            {
                for (var i = 0; i < count; i++, destination += hd, offset += stride)
                {
                    for (var h = 0; h < span; h++)
                    {
                        PagedKvStorage.DecodeFp8(new ReadOnlySpan<byte>(cache.Fp8 + offset + (h * hd), hd), new Span<float>(destination + (h * headStride), hd));
                    }
                }
            }
            else
            {
                for (var i = 0; i < count; i++, destination += hd, offset += stride)
                {
                    for (var h = 0; h < span; h++)
                    {
                        new ReadOnlySpan<float>(cache.Single + offset + (h * hd), hd).CopyTo(new Span<float>(destination + (h * headStride), hd));
                    }
                }
            }

            p = end;
        }
    }

    /// <summary>
    /// Asks for the next block's rows (elements [kvOffset, kvOffset + width) of each) while this block converts: the
    /// rows lie a token stride apart, and without the hint the conversion waits on memory row by row.
    /// </summary>
    private static void Prefetch(KvRows cache, long blockOffset, int rows, int stride, int kvOffset, int width)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        var size = cache.Half is not null ? 2 : cache.Fp8 is not null ? 1 : 4;
        var start = (cache.Half is not null ? (byte*)cache.Half : cache.Fp8 is not null ? cache.Fp8 : (byte*)cache.Single) + ((blockOffset + kvOffset) * size);
        for (var i = 0; i < rows; i++)
        {
            var row = start + ((long)i * stride * size);
            for (var b = 0; b < width * size; b += 64)
            {
                Sse.Prefetch0(row + b);
            }
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
