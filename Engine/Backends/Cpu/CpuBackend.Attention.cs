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

    public void Attention(float[] queries, ForwardBatch batch, PagedKvStorage storage, int layer, int heads, float[] output)
    {
        var hd = storage.HeadDimension;
        var group = heads / storage.KvHeadCount;
        var scale = 1f / MathF.Sqrt(hd);
        var half = storage.DataType == KvCacheDataType.F16;
        var keys = half ? null : storage.Keys(layer);
        var values = half ? null : storage.Values(layer);
        var halfKeys = half ? storage.HalfKeys(layer) : null;
        var halfValues = half ? storage.HalfValues(layer) : null;
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
            var row = t_kvRow is { } r && r.Length >= hd ? r : t_kvRow = new float[hd];
            var table = tables[t];
            var kvOffset = h / group * hd;
            var blockSize = storage.BlockSize;
            var stride = storage.TokenStride;
            fixed (float* q = &queries[((t * heads) + h) * hd])
            fixed (float* k0 = keys)
            fixed (float* v0 = values)
            fixed (Half* hk0 = halfKeys)
            fixed (Half* hv0 = halfValues)
            fixed (float* converted = row)
            fixed (float* o = &output[((t * heads) + h) * hd])
            {
                var max = float.NegativeInfinity;
                for (var p = 0; p < length; p++)
                {
                    var offset = (((table[p / blockSize] * blockSize) + (p % blockSize)) * stride) + kvOffset;
                    var k = k0 + offset;
                    if (half)
                    {
                        HalfConversion.HalfToSingle((ushort*)(hk0 + offset), converted, hd);
                        k = converted;
                    }

                    var score = SimdKernels.Dot(q, k, hd) * scale;
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
                    var v = v0 + offset;
                    if (half)
                    {
                        HalfConversion.HalfToSingle((ushort*)(hv0 + offset), converted, hd);
                        v = converted;
                    }

                    SimdKernels.AddScaled(o, v, scores[p], hd);
                }

                TensorPrimitives.Multiply(new ReadOnlySpan<float>(o, hd), 1f / sum, new Span<float>(o, hd));
            }
        });
    }
}
