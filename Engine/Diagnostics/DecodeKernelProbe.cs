using System.Diagnostics;
using System.Runtime.InteropServices;
using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Diagnostics;

/// <summary>
/// Measures how fast the CPU backend's decode matmul streams weights of one GGUF type: one activation row against
/// matrices that together are far larger than the caches, placed exactly as the model loader places them (huge-page
/// arena, interleaved where the CPU has those kernels), so the rate includes dequantization and dot-product cost.
/// The planner divides a model's bytes of each type by these rates to predict a decode step.
/// </summary>
public static unsafe class DecodeKernelProbe
{
    /// <summary>Input width of the probe matrices (a 1B-class model's hidden size; most decode bytes have it).</summary>
    public const int DefaultColumns = 2048;

    /// <summary>Rows of each probe matrix (a 1B-class model's FFN width), so each call is one realistic matmul.</summary>
    public const int DefaultRows = 8192;

    /// <summary>Default bytes streamed per pass: 1 GiB (on dev-2c a 256 MiB probe still read Q8_0 1.6x faster than decode does).</summary>
    public const long DefaultBytes = 1L << 30;

    private const int DistinctRows = 16;

    /// <summary>Threads the CPU backend runs on when a load asks for none (the physical cores).</summary>
    public static int DefaultThreads => CpuTopology.PhysicalCoreCount();

    /// <summary>The types the CPU backend multiplies, in the order <see cref="Measure"/> reports them.</summary>
    public static IReadOnlyList<GgmlType> Types => TensorFormats.Supported;

    /// <summary>
    /// Decode streaming rate of <paramref name="type"/>, in GGUF bytes per second, for each of <paramref name="threadCounts"/>:
    /// the best of at least <paramref name="passes"/> passes over <paramref name="bytes"/> of weights (and at least
    /// <paramref name="minSeconds"/> of passes), one matmul call per matrix as a decode step makes them.
    /// </summary>
    /// <exception cref="NotSupportedException"><paramref name="type"/> is not one the CPU backend multiplies.</exception>
    public static IReadOnlyList<(int Threads, double BytesPerSecond)> Measure(
        GgmlType type, IReadOnlyList<int> threadCounts, long bytes = DefaultBytes, int passes = 5, double minSeconds = 0.25,
        int columns = DefaultColumns, int rows = DefaultRows)
    {
        ArgumentNullException.ThrowIfNull(threadCounts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(passes);
        if (!Types.Contains(type) || !CpuBackend.Supports(type))
        {
            throw new NotSupportedException($"the CPU backend has no decode kernel for {type}");
        }

        var matrixBytes = GgmlTypeTraits.RowBytes(type, columns) * rows;
        var count = (int)Math.Max(1, (bytes + matrixBytes - 1) / matrixBytes);
        var capacity = count * (64 + (InterleavedKQuantLayout.Supports(type) ? InterleavedKQuantLayout.ByteSize(type, columns, rows)
            : InterleavedLayout.Supports(type) ? InterleavedLayout.ByteSize(type, columns, rows) : matrixBytes));
        using var arena = new HugePageWeights(capacity, progress: null);
        var matrices = Place(arena, type, columns, rows, count);
        var input = new float[columns];
        var random = new Random(7);
        for (var i = 0; i < columns; i++)
        {
            input[i] = (float)((random.NextDouble() * 2) - 1);
        }

        var outputs = new float[rows];
        var results = new List<(int, double)>();
        foreach (var threads in threadCounts)
        {
            using var backend = new CpuBackend(threads);
            Pass(backend, matrices, input, outputs); // warm-up: pages touched, kernels jitted, workers started
            var best = double.MaxValue;
            var clock = Stopwatch.StartNew();
            for (var pass = 0; pass < passes || clock.Elapsed.TotalSeconds < minSeconds; pass++)
            {
                var start = Stopwatch.GetTimestamp();
                Pass(backend, matrices, input, outputs);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }

            results.Add((threads, count * matrixBytes / best));
        }

        return results;
    }

    private static void Pass(CpuBackend backend, WeightMatrix[] matrices, float[] input, float[] output)
    {
        foreach (var m in matrices)
        {
            backend.MatMul(input, 1, new MatMulTarget(m, output));
        }
    }

    // Each matrix cycles through a few quantized random rows: values do not change the kernels' speed, and writing
    // hundreds of MiB of distinct quantized rows would take longer than the measurement.
    private static WeightMatrix[] Place(HugePageWeights arena, GgmlType type, int columns, int rows, int count)
    {
        var rowBytes = (int)GgmlTypeTraits.RowBytes(type, columns);
        var distinct = new byte[DistinctRows * rowBytes];
        var values = new float[columns];
        var random = new Random(1234);
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
            var result = new WeightMatrix[count];
            for (var m = 0; m < count; m++)
            {
                // Place drops the source's pages after reading them, so the rows are written again for each matrix.
                for (var r = 0; r < rows; r++)
                {
                    distinct.AsSpan(((r * 7) + m) % DistinctRows * rowBytes, rowBytes).CopyTo(new Span<byte>(source + ((long)r * rowBytes), rowBytes));
                }

                result[m] = arena.Place($"probe.{m}", type, source, columns, rows, interleave: true);
            }

            return result;
        }
        finally
        {
            NativeMemory.Free(source);
        }
    }
}
