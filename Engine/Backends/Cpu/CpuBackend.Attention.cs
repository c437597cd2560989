using System.Numerics.Tensors;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>The CPU backend's KV cache writes and paged attention, over an f32 or f16 cache.</summary>
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

    /// <summary>
    /// Work items are (run of up to <see cref="AttentionChunk"/> consecutive tokens of one sequence, KV head): the
    /// item gathers the KV head's key and value rows once (converting f16 to f32) and every query head of the group,
    /// for every token of the run, reads them there, rather than each (token, head) converting the rows again. Each
    /// output is still the same sequence of operations over the same f32 values (dot, softmax in position order, scaled
    /// sums in position order), so it does not depend on the batch or on how tokens were grouped.
    /// </summary>
    public void Attention(float[] queries, ForwardBatch batch, PagedKvStorage storage, int layer, int heads, float[] output)
    {
        var hd = storage.HeadDimension;
        var kvHeads = storage.KvHeadCount;
        var group = heads / kvHeads;
        var scale = 1f / MathF.Sqrt(hd);
        var half = storage.DataType == KvCacheDataType.F16;
        var keys = half ? null : storage.Keys(layer);
        var values = half ? null : storage.Values(layer);
        var halfKeys = half ? storage.HalfKeys(layer) : null;
        var halfValues = half ? storage.HalfValues(layer) : null;
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

            var scores = t_scores is { } s && s.Length >= length ? s : t_scores = new float[Math.Max(length, 256)];
            var rows = t_kvRow is { } r && r.Length >= 2 * length * hd ? r : t_kvRow = GC.AllocateUninitializedArray<float>(Math.Max(2 * length * hd, 2 * 256 * hd), pinned: true);
            var table = tables[first];
            var kvOffset = kvHead * hd;
            var blockSize = storage.BlockSize;
            var stride = storage.TokenStride;
            fixed (float* k0 = keys)
            fixed (float* v0 = values)
            fixed (Half* hk0 = halfKeys)
            fixed (Half* hv0 = halfValues)
            fixed (float* gathered = rows)
            {
                // (length, hd) keys, then (length, hd) values, of this KV head
                var kRows = gathered;
                var vRows = gathered + ((long)length * hd);
                for (var p = 0; p < length; p++)
                {
                    var offset = (((table[p / blockSize] * blockSize) + (p % blockSize)) * stride) + kvOffset;
                    if (half)
                    {
                        HalfConversion.HalfToSingle((ushort*)(hk0 + offset), kRows + ((long)p * hd), hd);
                        HalfConversion.HalfToSingle((ushort*)(hv0 + offset), vRows + ((long)p * hd), hd);
                    }
                    else
                    {
                        new ReadOnlySpan<float>(k0 + offset, hd).CopyTo(new Span<float>(kRows + ((long)p * hd), hd));
                        new ReadOnlySpan<float>(v0 + offset, hd).CopyTo(new Span<float>(vRows + ((long)p * hd), hd));
                    }
                }

                for (var t = first; t < end; t++)
                {
                    for (var h = kvHead * group; h < (kvHead + 1) * group; h++)
                    {
                        fixed (float* q = &queries[((t * heads) + h) * hd])
                        fixed (float* o = &output[((t * heads) + h) * hd])
                        {
                            Head(q, kRows, vRows, positions[t] + 1, hd, scale, scores, o);
                        }
                    }
                }
            }
        });
    }

    /// <summary>One query head over positions [0, length) of gathered f32 rows. // q, o (hd); k, v (length, hd)</summary>
    private static void Head(float* q, float* k, float* v, int length, int hd, float scale, float[] scores, float* o)
    {
        var max = float.NegativeInfinity;
        for (var p = 0; p < length; p++)
        {
            var score = SimdKernels.Dot(q, k + ((long)p * hd), hd) * scale;
            scores[p] = score;
            max = MathF.Max(max, score);
        }

        var sum = 0f;
        for (var p = 0; p < length; p++)
        {
            var e = MathF.Exp(scores[p] - max);
            scores[p] = e;
            sum += e;
        }

        new Span<float>(o, hd).Clear();
        for (var p = 0; p < length; p++)
        {
            SimdKernels.AddScaled(o, v + ((long)p * hd), scores[p], hd);
        }

        TensorPrimitives.Multiply(new ReadOnlySpan<float>(o, hd), 1f / sum, new Span<float>(o, hd));
    }
}
