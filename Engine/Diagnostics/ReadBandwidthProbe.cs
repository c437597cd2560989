using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Fathom.Engine.Backends.Cpu;

namespace Fathom.Engine.Diagnostics;

/// <summary>
/// Measures the machine's memory read bandwidth as decode sees it: <c>threads</c> dedicated threads, started together
/// at a barrier, each streaming a buffer of its own (allocated and first touched by that thread, far larger than the
/// caches, placed like the model's weights: 2 MiB-aligned, advised for huge pages, since on 4 KiB pages a VM's nested
/// page walks understate what the weights get). A pass lasts from the first thread's start to the last thread's end;
/// after a warm-up pass the best of several passes counts, each pass reading once with plain loads and once with
/// software prefetch a few KiB ahead (as the decode kernels do), whichever is faster.
/// <para>
/// An earlier version split one buffer with <c>Parallel.For</c>: the pool did not always run the two halves at once, so
/// "two threads" sometimes measured one, and 2-thread Q8_0 decode showed 110 % of it.
/// </para>
/// </summary>
public static unsafe class ReadBandwidthProbe
{
    /// <summary>Default total buffer size (split between the threads, at least 64 MiB each): far above any L3 this engine targets.</summary>
    public const long DefaultBytes = 512L << 20;

    private const long MinimumPerThread = 64L << 20;
    private const int PrefetchAhead = 4096;

    /// <summary>Bytes each thread streams when <paramref name="threads"/> share <paramref name="bytes"/>.</summary>
    public static long BytesPerThread(long bytes, int threads) => Math.Max(bytes / threads, MinimumPerThread) & ~4095L;

    /// <summary>Read bandwidth in bytes per second for each of <paramref name="threadCounts"/>.</summary>
    public static IReadOnlyList<(int Threads, double BytesPerSecond)> Measure(IReadOnlyList<int> threadCounts, long bytes = DefaultBytes, int passes = 5)
    {
        ArgumentNullException.ThrowIfNull(threadCounts);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1L << 20);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(passes);
        var results = new List<(int, double)>();
        foreach (var threads in threadCounts)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
            var share = BytesPerThread(bytes, threads);
            var best = MeasureOnce(threads, share, passes);
            results.Add((threads, share * threads / best));
        }

        return results;
    }

    // Seconds of the best pass of `threads` threads each streaming `share` bytes.
    private static double MeasureOnce(int threads, long share, int passes)
    {
        var starts = new long[threads];
        var ends = new long[threads];
        var sums = new ulong[threads];
        var best = double.MaxValue;
        Exception? failure = null;
        using var barrier = new Barrier(threads);
        var workers = new Thread[threads];
        for (var t = 0; t < threads; t++)
        {
            var index = t;
            workers[t] = new Thread(() =>
            {
                try
                {
                    using var arena = new HugePageWeights(share, progress: null);
                    var data = arena.Reserve(share);
                    new Span<byte>(data, (int)Math.Min(share, int.MaxValue)).Fill(1); // touched here, so no pass meets a page fault
                    for (long i = int.MaxValue; i < share; i += int.MaxValue)
                    {
                        new Span<byte>(data + i, (int)Math.Min(int.MaxValue, share - i)).Fill(1);
                    }

                    // Pass -1 warms up; each later pass reads plainly (even) or with prefetch (odd).
                    for (var pass = -1; pass < 2 * passes; pass++)
                    {
                        barrier.SignalAndWait();
                        starts[index] = Stopwatch.GetTimestamp();
                        sums[index] += pass % 2 == 0 ? Sum(data, share) : SumPrefetched(data, share);
                        ends[index] = Stopwatch.GetTimestamp();
                        barrier.SignalAndWait();
                        if (index == 0 && pass >= 0)
                        {
                            best = Math.Min(best, (ends.Max() - starts.Min()) / (double)Stopwatch.Frequency);
                        }
                    }
                }
                catch (Exception e) when (e is not BarrierPostPhaseException)
                {
                    failure = e;
                    barrier.RemoveParticipant();
                }
            })
            { IsBackground = true, Name = $"fathom-bandwidth-{t}" };
        }

        foreach (var worker in workers)
        {
            worker.Start();
        }

        foreach (var worker in workers)
        {
            worker.Join();
        }

        GC.KeepAlive(sums); // kept so the reads are not dead code
        return failure is null ? best : throw new InvalidOperationException("the read-bandwidth probe failed", failure);
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

    // The same with a prefetch of each line PrefetchAhead bytes early (past the end it is a harmless hint).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong SumPrefetched(byte* start, long bytes)
    {
        if (!Sse.IsSupported)
        {
            return Sum(start, bytes);
        }

        var width = Vector<ulong>.Count * sizeof(ulong);
        var step = 4 * width;
        Vector<ulong> a = default, b = default, c = default, d = default;
        long i = 0;
        for (; i + step <= bytes; i += step)
        {
            for (var line = 0; line < step; line += 64)
            {
                Sse.Prefetch0(start + i + PrefetchAhead + line);
            }

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
