using System.Diagnostics;
using System.Numerics.Tensors;
using Fathom.Engine.Backends.Cpu;

namespace Fathom.Engine.Diagnostics;

/// <summary>
/// Measures the machine's memory read bandwidth as decode sees it: <c>threads</c> threads each summing their share
/// of a buffer far larger than the caches, placed like the model's weights (2 MiB-aligned, advised for huge pages;
/// on 4 KiB pages a VM's nested page walks understate what the weights get). Best of several passes.
/// </summary>
public static unsafe class ReadBandwidthProbe
{
    /// <summary>Default buffer size: far above any L3 this engine targets.</summary>
    public const long DefaultBytes = 512L << 20;

    /// <summary>Read bandwidth in bytes per second for each of <paramref name="threadCounts"/>.</summary>
    public static IReadOnlyList<(int Threads, double BytesPerSecond)> Measure(IReadOnlyList<int> threadCounts, long bytes = DefaultBytes, int passes = 5)
    {
        ArgumentNullException.ThrowIfNull(threadCounts);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1L << 20);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(passes);
        var floats = bytes / sizeof(float);
        using var arena = new HugePageWeights(floats * sizeof(float), progress: null);
        var data = (float*)arena.Reserve(floats * sizeof(float));
        new Span<byte>(data, checked((int)Math.Min(int.MaxValue, floats * sizeof(float)))).Fill(1);
        if (floats * sizeof(float) > int.MaxValue)
        {
            new Span<byte>((byte*)data + int.MaxValue, checked((int)(floats * sizeof(float) - int.MaxValue))).Fill(1);
        }

        var results = new List<(int, double)>();
        foreach (var threads in threadCounts)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
            var share = floats / threads;
            var sums = new float[threads];
            var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
            void Pass() => Parallel.For(0, threads, options, t =>
            {
                var start = data + (t * share);
                var total = 0f;
                const int Chunk = 1 << 20; // floats per span: spans are int-indexed
                for (long i = 0; i < share; i += Chunk)
                {
                    total += TensorPrimitives.Sum(new ReadOnlySpan<float>(start + i, (int)Math.Min(Chunk, share - i)));
                }

                sums[t] = total; // kept so the reads are not dead code
            });

            Pass();
            var best = double.MaxValue;
            for (var pass = 0; pass < passes; pass++)
            {
                var clock = Stopwatch.GetTimestamp();
                Pass();
                best = Math.Min(best, Stopwatch.GetElapsedTime(clock).TotalSeconds);
            }

            GC.KeepAlive(sums);
            results.Add((threads, share * threads * sizeof(float) / best));
        }

        return results;
    }
}
