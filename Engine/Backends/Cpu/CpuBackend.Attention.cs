using System.Numerics.Tensors;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>The CPU backend's KV cache writes and paged attention.</summary>
internal sealed unsafe partial class CpuBackend
{
    [ThreadStatic]
    private static float[]? t_scores;

    public void StoreKv(float[] keys, float[] values, ForwardBatch batch, PagedKvStorage storage, int layer)
    {
        var stride = storage.TokenStride;
        for (var t = 0; t < batch.Count; t++)
        {
            var offset = storage.Offset(batch.BlockTableOf(t), batch.Positions[t]);
            keys.AsSpan(t * stride, stride).CopyTo(storage.Keys(layer).AsSpan(offset, stride));
            values.AsSpan(t * stride, stride).CopyTo(storage.Values(layer).AsSpan(offset, stride));
        }
    }

    public void Attention(float[] queries, ForwardBatch batch, PagedKvStorage storage, int layer, int heads, float[] output)
    {
        var hd = storage.HeadDimension;
        var group = heads / storage.KvHeadCount;
        var scale = 1f / MathF.Sqrt(hd);
        var keys = storage.Keys(layer);
        var values = storage.Values(layer);
        var positions = batch.Positions.ToArray();
        var tables = new int[batch.Count][];
        for (var t = 0; t < tables.Length; t++)
        {
            tables[t] = batch.BlockTableOf(t);
            storage.Offset(tables[t], positions[t]); // validates the table covers the position
        }

        RunParallel(batch.Count * heads, (long)batch.Count * heads * (positions.Max() + 1) * hd * 2 >= SerialWorkLimit, item =>
        {
            var t = item / heads;
            var h = item % heads;
            var length = positions[t] + 1;
            var scores = t_scores is { } s && s.Length >= length ? s : t_scores = new float[Math.Max(length, 256)];
            var table = tables[t];
            var kvOffset = h / group * hd;
            var blockSize = storage.BlockSize;
            var stride = storage.TokenStride;
            fixed (float* q = &queries[((t * heads) + h) * hd])
            fixed (float* k0 = keys)
            fixed (float* v0 = values)
            fixed (float* o = &output[((t * heads) + h) * hd])
            {
                var max = float.NegativeInfinity;
                for (var p = 0; p < length; p++)
                {
                    var offset = (((table[p / blockSize] * blockSize) + (p % blockSize)) * stride) + kvOffset;
                    var score = SimdKernels.Dot(q, k0 + offset, hd) * scale;
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
                    var offset = (((table[p / blockSize] * blockSize) + (p % blockSize)) * stride) + kvOffset;
                    SimdKernels.AddScaled(o, v0 + offset, scores[p], hd);
                }

                TensorPrimitives.Multiply(new ReadOnlySpan<float>(o, hd), 1f / sum, new Span<float>(o, hd));
            }
        });
    }
}
