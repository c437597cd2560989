using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
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
        bytes &= ~63L;
        using var arena = new HugePageWeights(bytes, progress: null);
        var data = arena.Reserve(bytes);
        for (long i = 0; i < bytes; i += int.MaxValue)
        {
            new Span<byte>(data + i, (int)Math.Min(int.MaxValue, bytes - i)).Fill(1); // touched, so no pass meets a page fault
        }

        var results = new List<(int, double)>();
        foreach (var threads in threadCounts)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
            var share = bytes / threads & ~63L;
            var sums = new ulong[threads];
            var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
            void Pass() => Parallel.For(0, threads, options, t =>
            {
                sums[t] = Sum(data + (t * share), share); // kept so the reads are not dead code
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
            results.Add((threads, share * threads / best));
        }

        return results;
    }

    // Integer adds into four independent accumulators: a single float accumulator is bound by the add's latency
    // (a TensorPrimitives.Sum pass read 20 GB/s where the matmul streamed 38), not by memory.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong Sum(byte* start, long bytes)
    {
        var width = Vector<ulong>.Count * sizeof(ulong);
        var step = 4 * width;
        Vector<ulong> a = default, b = default, c = default, d = default;
        long i = 0;
        for (; i + step <= bytes; i += step)
        {
            a += Vector.Load((ulong*)(start + i));
            b += Vector.Load((ulong*)(start + i + width));
            c += Vector.Load((ulong*)(start + i + (2 * width)));
            d += Vector.Load((ulong*)(start + i + (3 * width)));
        }

        var total = Vector.Sum(a + b + c + d);
        for (; i < bytes; i++)
        {
            total += start[i];
        }

        return total;
    }
}
