using System.Diagnostics;
using System.Runtime.InteropServices;
using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Diagnostics;

/// <summary>
/// Measures how fast the CPU backend's decode matmul streams weights of one GGUF type: one activation row against
/// Llama-shaped layers (q/k/v fused, o, gate/up fused, down: the calls and shapes a decode step makes) that together are
/// far larger than the caches, placed exactly as the model loader places them (huge-page arena, interleaved where the
/// CPU has those kernels), so the rate includes dequantization, dot products and each call's fixed cost. The planner
/// divides a model's bytes of each type by these rates to predict a decode step.
/// </summary>
public static unsafe class DecodeKernelProbe
{
    /// <summary>Default residual width of the probe layers (a 1B-class Llama's).</summary>
    public const int DefaultHidden = 2048;

    /// <summary>Default FFN width of the probe layers.</summary>
    public const int DefaultFfn = 8192;

    /// <summary>Default key/value width (8 KV heads of 64).</summary>
    public const int DefaultKvWidth = 512;

    /// <summary>Default bytes streamed per pass: well above any L3 this engine targets (256 MiB was not on dev-2c).</summary>
    public const long DefaultBytes = 1L << 30;

    private const int DistinctRows = 16;

    /// <summary>Threads the CPU backend runs on when a load asks for none (the physical cores).</summary>
    public static int DefaultThreads => CpuTopology.PhysicalCoreCount();

    /// <summary>The types the CPU backend multiplies, in the order <see cref="Measure"/> reports them.</summary>
    public static IReadOnlyList<GgmlType> Types => TensorFormats.Supported;

    /// <summary>
    /// Decode streaming rate of <paramref name="type"/>, in GGUF bytes per second, for each of <paramref name="threadCounts"/>:
    /// the best of at least <paramref name="passes"/> passes (and at least <paramref name="minSeconds"/> of passes) over
    /// as many layers as <paramref name="bytes"/> take.
    /// </summary>
    /// <exception cref="NotSupportedException"><paramref name="type"/> is not one the CPU backend multiplies.</exception>
    public static IReadOnlyList<(int Threads, double BytesPerSecond)> Measure(
        GgmlType type, IReadOnlyList<int> threadCounts, long bytes = DefaultBytes, int passes = 5, double minSeconds = 0.5,
        int hidden = DefaultHidden, int ffn = DefaultFfn, int kvWidth = DefaultKvWidth)
    {
        ArgumentNullException.ThrowIfNull(threadCounts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(passes);
        if (!Types.Contains(type) || !CpuBackend.Supports(type))
        {
            throw new NotSupportedException($"the CPU backend has no decode kernel for {type}");
        }

        // (input width, output width) of each matrix of a layer, in the order decode multiplies them.
        (int Columns, int Rows)[] shapes = [(hidden, hidden), (hidden, kvWidth), (hidden, kvWidth), (hidden, hidden), (hidden, ffn), (hidden, ffn), (ffn, hidden)];
        var layerBytes = shapes.Sum(m => GgmlTypeTraits.RowBytes(type, m.Columns) * m.Rows);
        var layers = (int)Math.Max(1, (bytes + layerBytes - 1) / layerBytes);
        var capacity = layers * shapes.Sum(m => 64 + (InterleavedLayout.Supports(type)
            ? InterleavedLayout.ByteSize(type, m.Columns, m.Rows)
            : GgmlTypeTraits.RowBytes(type, m.Columns) * m.Rows));
        using var arena = new HugePageWeights(capacity, progress: null);
        var matrices = new WeightMatrix[layers][];
        for (var l = 0; l < layers; l++)
        {
            matrices[l] = [.. shapes.Select((m, i) => Place(arena, type, m.Columns, m.Rows, (l * shapes.Length) + i))];
        }

        var x = RandomVector(hidden, 7);
        var wide = RandomVector(ffn, 8);
        var outputs = shapes.Select(m => new float[m.Rows]).ToArray();
        var results = new List<(int, double)>();
        foreach (var threads in threadCounts)
        {
            using var backend = new CpuBackend(threads);
            Pass(backend, matrices, x, wide, outputs); // warm-up: pages touched, kernels jitted, workers started
            var best = double.MaxValue;
            var clock = Stopwatch.StartNew();
            for (var pass = 0; pass < passes || clock.Elapsed.TotalSeconds < minSeconds; pass++)
            {
                var start = Stopwatch.GetTimestamp();
                Pass(backend, matrices, x, wide, outputs);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }

            results.Add((threads, layers * layerBytes / best));
        }

        return results;
    }

    private static void Pass(CpuBackend backend, WeightMatrix[][] layers, float[] x, float[] wide, float[][] y)
    {
        foreach (var m in layers)
        {
            backend.MatMul(x, 1, new MatMulTarget(m[0], y[0]), new MatMulTarget(m[1], y[1]), new MatMulTarget(m[2], y[2]));
            backend.MatMul(x, 1, new MatMulTarget(m[3], y[3]));
            backend.MatMul(x, 1, new MatMulTarget(m[4], y[4]), new MatMulTarget(m[5], y[5]));
            backend.MatMul(wide, 1, new MatMulTarget(m[6], y[6]));
        }
    }

    private static float[] RandomVector(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    // A matrix cycles through a few quantized random rows: values do not change the kernels' speed, and quantizing
    // hundreds of MiB of distinct rows would take longer than the measurement.
    private static WeightMatrix Place(HugePageWeights arena, GgmlType type, int columns, int rows, int seed)
    {
        var rowBytes = (int)GgmlTypeTraits.RowBytes(type, columns);
        var distinct = new byte[DistinctRows * rowBytes];
        var values = new float[columns];
        var random = new Random(seed);
        var scale = MathF.Sqrt(3f / columns);
        for (var d = 0; d < DistinctRows; d++)
        {
            for (var i = 0; i < columns; i++)
            {
                values[i] = scale * (float)((random.NextDouble() * 2) - 1);
            }

            TensorFormats.QuantizeRow(type, values, distinct.AsSpan(d * rowBytes, rowBytes), columns);
        }

        var matrixBytes = (long)rowBytes * rows;
        var source = (byte*)NativeMemory.Alloc((nuint)matrixBytes);
        try
        {
            for (var r = 0; r < rows; r++)
            {
                distinct.AsSpan(r * 7 % DistinctRows * rowBytes, rowBytes).CopyTo(new Span<byte>(source + ((long)r * rowBytes), rowBytes));
            }

            return arena.Place($"probe.{seed}", type, source, columns, rows, interleave: true);
        }
        finally
        {
            NativeMemory.Free(source);
        }
    }
}
