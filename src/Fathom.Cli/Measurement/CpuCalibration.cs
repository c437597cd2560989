using System.Globalization;
using Fathom.Engine.Diagnostics;
using Fathom.Engine.KvCache;
using Fathom.Planner.Models;
using Fathom.Planner.Performance;

namespace Fathom.Cli.Measurement;

/// <summary>
/// Turns a <c>fathom bench</c> decode measurement on the CPU into a calibration record: the model's decode bytes per
/// GGUF type, the decode matmul's streaming rate for every type the CPU backend runs and the machine's read bandwidth
/// (each at 1, 2, 4, … threads up to the logical CPU count, and at the run's own thread count), so
/// <c>fathom plan --calibration</c> can predict other formats and thread counts from this one run.
/// </summary>
internal static class CpuCalibration
{
    /// <summary>Thread counts the probes measure: powers of two up to the CPU count, and <paramref name="threads"/>.</summary>
    public static IReadOnlyList<int> ProbeThreadCounts(int threads)
    {
        var counts = new SortedSet<int> { threads };
        for (var t = 1; t <= Environment.ProcessorCount; t *= 2)
        {
            counts.Add(t);
        }

        return [.. counts];
    }

    /// <summary>Probes the machine and builds the record for a measured run of the model at <paramref name="modelPath"/>.</summary>
    /// <param name="modelPath">The GGUF file benchmarked.</param>
    /// <param name="device">The device id to record (null: <c>cpu-</c> and the host name).</param>
    /// <param name="threads">Threads the run used.</param>
    /// <param name="decodeTokS">The measured decode tokens/s.</param>
    /// <param name="averageContext">The average number of cached tokens a decode step attended to.</param>
    /// <param name="probeBytes">Bytes each kernel-rate probe streams per pass.</param>
    /// <param name="command">The command line, recorded for provenance.</param>
    /// <param name="kvType">The element type the run's KV cache held (f16 by default on the CPU backend).</param>
    public static CalibrationRecord Measure(
        string modelPath, string? device, int threads, double decodeTokS, double averageContext, long probeBytes, string command, KvCacheDataType kvType)
    {
        var (shape, weights) = GgufModelReader.Read(modelPath);
        var counts = ProbeThreadCounts(threads);
        var rates = new List<KernelRate>();
        foreach (var type in DecodeKernelProbe.Types)
        {
            foreach (var (t, rate) in DecodeKernelProbe.Measure(type, counts, probeBytes))
            {
                rates.Add(new KernelRate(type.ToString(), t, Math.Round(rate / 1e9, 3)));
            }
        }

        var read = ReadBandwidthProbe.Measure(counts, Math.Max(2 * probeBytes, 64L << 20))
            .Select(r => new ReadBandwidth(r.Threads, Math.Round(r.BytesPerSecond / 1e9, 3))).ToList();
        var kvBytes = (long)(shape.KvBytesPerToken(kvType switch { KvCacheDataType.F32 => KvCacheType.F32, KvCacheDataType.Fp8 => KvCacheType.Fp8, _ => KvCacheType.F16 }) * averageContext);
        var bytesPerStep = weights.DecodeReadBytes + kvBytes;
        // The peak over thread counts: one thread rarely saturates memory, and a fraction above 1 would be meaningless.
        var peak = read.Max(r => r.GbS);
        return new CalibrationRecord(
            CalibrationRecord.SchemaId, device ?? DefaultDeviceId(), Path.GetFileName(modelPath), weights.FormatId, Tp: 1, Concurrency: 1,
            MeasuredTokSPerUser: Math.Round(decodeTokS, 3), BandwidthFraction: Math.Round(bytesPerStep * decodeTokS / (peak * 1e9), 4),
            PeakBandwidthGbS: peak, DeviceMemoryBytes: TotalMemoryBytes(), DeviceName: CpuName(),
            Date: DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), Command: command,
            Threads: threads, KernelRates: rates, ReadBandwidth: read,
            DecodeBytesByType: weights.DecodeReadBytesByStorage, KvBytesPerStep: kvBytes);
    }

    /// <summary><c>cpu-</c> and the host name, lower case.</summary>
    public static string DefaultDeviceId() => "cpu-" + Environment.MachineName.ToLowerInvariant();

    private static long TotalMemoryBytes()
    {
        // MemTotal is the machine's RAM; the GC's figure is the fallback (it honours container limits).
        const string MemInfo = "/proc/meminfo";
        if (File.Exists(MemInfo))
        {
            foreach (var line in File.ReadLines(MemInfo))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts is ["MemTotal:", var kb, "kB"] && long.TryParse(kb, CultureInfo.InvariantCulture, out var value))
                {
                    return value * 1024;
                }
            }
        }

        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    private static string CpuName() => $"{(CpuModel.Name == "unknown" ? "CPU" : CpuModel.Name)} ({Environment.ProcessorCount} logical CPUs)";
}
