using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using Fathom.Gguf;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>
/// The production CPU backend: a persistent worker pool, SIMD kernels with fixed reduction orders (batch
/// invariant), matmuls tiled so each weight row is read once per batch.
/// </summary>
internal sealed unsafe partial class CpuBackend : IComputeBackend
{
    private const int InputRowsPerTile = 32;

    /// <summary>Multiply-adds below which an op runs on the calling thread alone.</summary>
    private const long SerialWorkLimit = 64 * 1024;

    [ThreadStatic]
    private static float[]? t_rowBuffer;

    [ThreadStatic]
    private static float[]? t_scores;

    private readonly WorkerPool _pool;

    public CpuBackend(int threads)
    {
        _pool = new WorkerPool(Math.Max(1, threads));
    }

    public string Name => "cpu";

    public int ThreadCount => _pool.ThreadCount;

    public static bool Supports(GgmlType type) => RowDecoder.IsSupported(type);

    private static bool IsQuantized(GgmlType type) => type is GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K;

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
        fixed (float* x0 = input)
        {
            for (var r = 0; r < rows; r++)
            {
                var x = x0 + ((long)r * dim);
                var sum = SimdKernels.Dot(x, x, dim);
                var scale = 1f / MathF.Sqrt((sum / dim) + eps);
                var y = output.AsSpan(r * dim, dim);
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(x, dim), scale, y);
                TensorPrimitives.Multiply(y, weight, y);
            }
        }
    }

    public void MatMul(float[] input, int rows, params ReadOnlySpan<MatMulTarget> targets)
    {
        var list = targets.ToArray();
        var k = list[0].Weight.Columns;
        foreach (var t in list)
        {
            if (t.Weight.Columns != k)
            {
                throw new ArgumentException("all weights of one matmul must share the input width");
            }
        }

        // Tiny matmuls (small models, or the last rows of a step) cost less than waking the workers.
        long work = 0;
        foreach (var t in list)
        {
            work += (long)rows * k * t.Weight.Rows;
        }

        var parallel = work >= SerialWorkLimit;
        var activations = QuantizeActivations(input, rows, k, list, parallel);

        // Work items: chunks of weight rows, small enough that every thread gets several per matrix.
        var chunkRows = ChooseChunkRows(list, _pool.ThreadCount);
        var starts = new int[list.Length + 1];
        for (var i = 0; i < list.Length; i++)
        {
            starts[i + 1] = starts[i] + ((list[i].Weight.Rows + chunkRows - 1) / chunkRows);
        }

        RunParallel(starts[^1], parallel, item =>
        {
            var target = 0;
            while (item >= starts[target + 1])
            {
                target++;
            }

            var (w, output) = list[target];
            var first = (item - starts[target]) * chunkRows;
            var last = Math.Min(first + chunkRows, w.Rows);
            if (IsQuantized(w.Type))
            {
                QuantizedChunk(activations, rows, w, output, first, last);
            }
            else
            {
                MatMulChunk(input, rows, w, output, first, last);
            }
        });
    }

    public void AddBias(float[] x, int rows, float[] bias)
    {
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * bias.Length, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    public void Rope(float[] x, int rows, int heads, int headDimension, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        var half = rope.Dimensions / 2;
        Span<float> cos = stackalloc float[half];
        Span<float> sin = stackalloc float[half];
        for (var r = 0; r < rows; r++)
        {
            rope.Angles(positions[r], cos, sin);
            for (var h = 0; h < heads; h++)
            {
                var head = x.AsSpan(((r * heads) + h) * headDimension, headDimension);
                if (rope.Mode == RopeMode.Normal)
                {
                    for (var i = 0; i < half; i++)
                    {
                        var x0 = head[2 * i];
                        var x1 = head[(2 * i) + 1];
                        head[2 * i] = (x0 * cos[i]) - (x1 * sin[i]);
                        head[(2 * i) + 1] = (x0 * sin[i]) + (x1 * cos[i]);
                    }
                }
                else
                {
                    for (var i = 0; i < half; i++)
                    {
                        var x0 = head[i];
                        var x1 = head[i + half];
                        head[i] = (x0 * cos[i]) - (x1 * sin[i]);
                        head[i + half] = (x0 * sin[i]) + (x1 * cos[i]);
                    }
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

    public void SwiGlu(float[] gate, float[] up, int count, float[] output)
    {
        const int Chunk = 4096;
        _pool.Run((count + Chunk - 1) / Chunk, item =>
        {
            var start = item * Chunk;
            var length = Math.Min(Chunk, count - start);
            var g = gate.AsSpan(start, length);
            var y = output.AsSpan(start, length);
            TensorPrimitives.Sigmoid(g, y);
            TensorPrimitives.Multiply(y, g, y);
            TensorPrimitives.Multiply(y, up.AsSpan(start, length), y);
        });
    }

    public void Add(float[] x, float[] y, int count) => TensorPrimitives.Add(x.AsSpan(0, count), y.AsSpan(0, count), x.AsSpan(0, count));

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

    public void Dispose() => _pool.Dispose();

    private void RunParallel(int items, bool parallel, Action<int> body)
    {
        if (parallel)
        {
            _pool.Run(items, body);
            return;
        }

        for (var i = 0; i < items; i++)
        {
            body(i);
        }
    }

    private static int ChooseChunkRows(MatMulTarget[] targets, int threads)
    {
        var totalRows = 0;
        foreach (var t in targets)
        {
            totalRows += t.Weight.Rows;
        }

        // Aim for ~8 chunks per thread, in multiples of 8 rows (an interleaved group), at least 8.
        var rows = totalRows / (threads * 8);
        return Math.Clamp(rows & ~7, 8, 256);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MatMulChunk(float[] input, int rows, WeightMatrix w, float[] output, int first, int last)
    {
        var k = w.Columns;
        var n = w.Rows;
        var decode = w.Type != GgmlType.F32 || w.ColumnOrder is not null;
        var buffer = decode ? (t_rowBuffer is { } b && b.Length >= k ? b : t_rowBuffer = new float[k]) : null;
        fixed (float* x0 = input)
        fixed (float* y0 = output)
        fixed (float* decoded = buffer)
        {
            for (var r0 = 0; r0 < rows; r0 += InputRowsPerTile)
            {
                var r1 = Math.Min(r0 + InputRowsPerTile, rows);
                for (var j = first; j < last; j++)
                {
                    float* row;
                    if (decode)
                    {
                        RowDecoder.Decode(w, j, new Span<float>(decoded, k));
                        row = decoded;
                    }
                    else
                    {
                        row = (float*)w.Row(j);
                    }

                    for (var r = r0; r < r1; r++)
                    {
                        y0[((long)r * n) + j] = SimdKernels.Dot(row, x0 + ((long)r * k), k);
                    }
                }
            }
        }
    }
}
