using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using Fathom.Gguf;
using Fathom.Engine.Model;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>
/// The production CPU backend: a persistent worker pool, SIMD kernels with fixed reduction orders (batch
/// invariant), matmuls tiled so each weight row is read once per batch.
/// </summary>
internal sealed unsafe partial class CpuBackend : IComputeBackend
{
    /// <summary>Multiply-adds below which an op runs on the calling thread alone.</summary>
    private const long SerialWorkLimit = 64 * 1024;

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
}
