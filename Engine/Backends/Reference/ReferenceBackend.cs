using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Backends.Reference;

/// <summary>
/// The oracle: plain scalar loops, weights decoded a row at a time to f32 and every reduction accumulated in
/// double in index order. Slow and obviously correct; other backends are tested against it.
/// </summary>
internal sealed unsafe class ReferenceBackend : IComputeBackend
{
    public string Name => "reference";

    public void Embed(WeightMatrix table, ReadOnlySpan<int> tokens, float[] output)
    {
        var dim = table.Columns;
        for (var t = 0; t < tokens.Length; t++)
        {
            var token = tokens[t];
            if ((uint)token >= (uint)table.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {token} is outside the vocabulary of {table.Rows}");
            }

            RowDecoder.Decode(table, token, output.AsSpan(t * dim, dim));
        }
    }

    public void RmsNorm(float[] input, int rows, int dim, float[] weight, float eps, float[] output)
    {
        for (var r = 0; r < rows; r++)
        {
            var x = input.AsSpan(r * dim, dim);
            var y = output.AsSpan(r * dim, dim);
            double sum = 0;
            for (var i = 0; i < dim; i++)
            {
                sum += (double)x[i] * x[i];
            }

            var scale = (float)(1.0 / Math.Sqrt((sum / dim) + eps));
            for (var i = 0; i < dim; i++)
            {
                y[i] = x[i] * scale * weight[i];
            }
        }
    }

    public void MatMul(float[] input, int rows, params ReadOnlySpan<MatMulTarget> targets)
    {
        foreach (var (w, output) in targets)
        {
            var k = w.Columns;
            var row = new float[k]; // (k)
            for (var n = 0; n < w.Rows; n++)
            {
                RowDecoder.Decode(w, n, row);
                for (var r = 0; r < rows; r++)
                {
                    var x = input.AsSpan(r * k, k);
                    double sum = 0;
                    for (var i = 0; i < k; i++)
                    {
                        sum += (double)row[i] * x[i];
                    }

                    output[(r * w.Rows) + n] = (float)sum;
                }
            }
        }
    }

    public void AddBias(float[] x, int rows, float[] bias)
    {
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < bias.Length; i++)
            {
                x[(r * bias.Length) + i] += bias[i];
            }
        }
    }

    public void Rope(float[] x, int rows, int heads, int headDimension, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        var half = rope.Dimensions / 2;
        for (var r = 0; r < rows; r++)
        {
            for (var h = 0; h < heads; h++)
            {
                var head = ((r * heads) + h) * headDimension;
                for (var i = 0; i < half; i++)
                {
                    var theta = positions[r] * rope.Frequencies[i];
                    var cos = Math.Cos(theta);
                    var sin = Math.Sin(theta);
                    var (a, b) = rope.Mode == RopeMode.Normal ? (head + (2 * i), head + (2 * i) + 1) : (head + i, head + i + half);
                    double x0 = x[a], x1 = x[b];
                    x[a] = (float)((x0 * cos) - (x1 * sin));
                    x[b] = (float)((x0 * sin) + (x1 * cos));
                }
            }
        }
    }

    public void StoreKv(float[] keys, float[] values, ForwardBatch batch, PagedKvStorage storage, int layer)
    {
        var stride = storage.TokenStride;
        for (var t = 0; t < batch.Count; t++)
        {
            var offset = storage.Offset(batch.BlockTableOf(t), batch.Positions[t]);
            storage.Store(layer, offset, keys.AsSpan(t * stride, stride), values.AsSpan(t * stride, stride));
        }
    }

    // Reads K/V through the storage as f32, whatever it holds: with an f16 cache the oracle sees the same rounded
    // K/V as the backend under test.
    public void Attention(float[] queries, ForwardBatch batch, PagedKvStorage storage, int layer, int heads, float[] output)
    {
        var hd = storage.HeadDimension;
        var group = heads / storage.KvHeadCount;
        var scale = 1.0 / Math.Sqrt(hd);
        var row = new float[hd];
        var acc = new double[hd];
        for (var t = 0; t < batch.Count; t++)
        {
            var table = batch.BlockTableOf(t);
            var length = batch.Positions[t] + 1;
            var scores = new double[length];
            for (var h = 0; h < heads; h++)
            {
                var q = queries.AsSpan(((t * heads) + h) * hd, hd);
                var kvOffset = h / group * hd;
                var max = double.NegativeInfinity;
                for (var p = 0; p < length; p++)
                {
                    storage.ReadKeys(layer, storage.Offset(table, p) + kvOffset, row);
                    double dot = 0;
                    for (var i = 0; i < hd; i++)
                    {
                        dot += (double)q[i] * row[i];
                    }

                    scores[p] = dot * scale;
                    max = Math.Max(max, scores[p]);
                }

                double sum = 0;
                for (var p = 0; p < length; p++)
                {
                    scores[p] = Math.Exp(scores[p] - max);
                    sum += scores[p];
                }

                Array.Clear(acc);
                for (var p = 0; p < length; p++)
                {
                    storage.ReadValues(layer, storage.Offset(table, p) + kvOffset, row);
                    for (var i = 0; i < hd; i++)
                    {
                        acc[i] += scores[p] * row[i];
                    }
                }

                var o = output.AsSpan(((t * heads) + h) * hd, hd);
                for (var i = 0; i < hd; i++)
                {
                    o[i] = (float)(acc[i] / sum);
                }
            }
        }
    }

    public void SwiGlu(float[] gate, float[] up, int count, float[] output)
    {
        for (var i = 0; i < count; i++)
        {
            double g = gate[i];
            output[i] = (float)(g / (1 + Math.Exp(-g)) * up[i]);
        }
    }

    public void Add(float[] x, float[] y, int count)
    {
        for (var i = 0; i < count; i++)
        {
            x[i] += y[i];
        }
    }

    public int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    public void Dispose()
    {
    }
}
