using Fathom.Planner.Formats;
using Fathom.Planner.Hardware;

namespace Fathom.Planner.Performance;

/// <summary>
/// What <c>fathom bench</c> measured on one device, in the form <c>fathom plan --calibration FILE</c> applies:
/// the fraction of the device's peak memory bandwidth that decode reached for a weight format. A device not
/// in the catalog (a CPU, say) can be planned for when the record carries its memory and peak bandwidth.
/// </summary>
/// <param name="Schema">Always <see cref="SchemaId"/>.</param>
/// <param name="Device">The catalog GPU id, or a new device id (e.g. <c>cpu-dev-2c</c>).</param>
/// <param name="Model">The model measured (preset id or file name).</param>
/// <param name="Weights">The weight format id (bf16, q8_0, q4_k_m, ...).</param>
/// <param name="Tp">Tensor-parallel size of the run.</param>
/// <param name="Concurrency">Concurrent sequences of the run.</param>
/// <param name="MeasuredTokSPerUser">Decode tokens per second per sequence.</param>
/// <param name="BandwidthFraction">Bytes streamed per second over the peak (0–1].</param>
/// <param name="PeakBandwidthGbS">The device's peak bandwidth used for the fraction (GB/s); needed for a device not in the catalog.</param>
/// <param name="DeviceMemoryBytes">The device's memory, for a device not in the catalog.</param>
/// <param name="DeviceName">A readable device name.</param>
/// <param name="PeakTflops">The device's peak dense matrix throughput (TFLOP/s), for a device not in the catalog; 1 when absent.</param>
/// <param name="Date">When it was measured (ISO 8601).</param>
/// <param name="Command">The command that produced it.</param>
/// <param name="Threads">CPU threads of the run (CPU devices).</param>
/// <param name="KernelRates">The CPU decode matmul's streaming rate per GGUF type and thread count (CPU devices); with
/// <paramref name="DecodeBytesByType"/> these let the planner predict other formats and thread counts (see <see cref="CpuDecodeModel"/>).</param>
/// <param name="ReadBandwidth">The CPU's memory read bandwidth per thread count (for KV reads and types without a kernel rate).</param>
/// <param name="DecodeBytesByType">Bytes one decode step of the measured model streams, per GGUF type.</param>
/// <param name="KvBytesPerStep">KV-cache bytes one decode step of the run read on average.</param>
public sealed record CalibrationRecord(
    string Schema,
    string Device,
    string Model,
    string Weights,
    int Tp,
    int Concurrency,
    double MeasuredTokSPerUser,
    double BandwidthFraction,
    double? PeakBandwidthGbS = null,
    long? DeviceMemoryBytes = null,
    string? DeviceName = null,
    double? PeakTflops = null,
    string? Date = null,
    string? Command = null,
    int? Threads = null,
    IReadOnlyList<KernelRate>? KernelRates = null,
    IReadOnlyList<ReadBandwidth>? ReadBandwidth = null,
    IReadOnlyDictionary<string, long>? DecodeBytesByType = null,
    long? KvBytesPerStep = null)
{
    /// <summary>The schema id written into every record.</summary>
    public const string SchemaId = "fathom.calibration/1";

    /// <summary>
    /// Builds a record from a measurement: the fraction is (weight bytes streamed per token + KV bytes read per
    /// token) × tokens/s over the peak bandwidth.
    /// </summary>
    public static CalibrationRecord FromMeasurement(
        string device, string model, WeightBudget weights, long kvBytesReadPerToken, int tp, int concurrency,
        double tokSPerUser, double peakBandwidthGbS, long? deviceMemoryBytes = null, string? deviceName = null, double? peakTflops = null, string? command = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var bytesPerStep = weights.DecodeReadBytes / (double)tp + (double)kvBytesReadPerToken * concurrency / tp;
        var fraction = bytesPerStep * tokSPerUser / (peakBandwidthGbS * 1e9);
        return new CalibrationRecord(SchemaId, device, model, weights.FormatId, tp, concurrency, tokSPerUser, fraction,
            peakBandwidthGbS, deviceMemoryBytes, deviceName, peakTflops, DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture), command);
    }

    /// <summary>True when the record carries what <see cref="CpuDecodeModel"/> needs: threads, kernel rates, read bandwidth and the step's bytes.</summary>
    public bool HasKernelRates =>
        Threads is > 0 && KernelRates is { Count: > 0 } && ReadBandwidth is { Count: > 0 } && DecodeBytesByType is { Count: > 0 } && KvBytesPerStep is >= 0;

    /// <summary>The kernel family of the measured format.</summary>
    /// <exception cref="PlannerInputException">The weight format is unknown.</exception>
    public KernelClass Kernel =>
        Weights.StartsWith("gguf-", StringComparison.OrdinalIgnoreCase)
            ? Enum.TryParse<Fathom.Gguf.GgmlType>(Weights[5..], ignoreCase: true, out var type)
                ? Models.GgufModelReader.KernelFor(type)
                : throw new PlannerInputException($"unknown GGUF type in weight format '{Weights}'")
            : WeightFormat.Parse(Weights).Kernel;

    /// <summary>A catalog entry for a device the catalog lacks (bandwidth and memory from the record).</summary>
    /// <exception cref="PlannerInputException">The record lacks the device's memory or bandwidth.</exception>
    public GpuSpec ToDevice() => new(
        Device, DeviceName ?? Device,
        (DeviceMemoryBytes ?? throw new PlannerInputException($"calibration for '{Device}' lacks device_memory_bytes, and the catalog does not know it")) / (1024 * 1024),
        PeakBandwidthGbS ?? throw new PlannerInputException($"calibration for '{Device}' lacks peak_bandwidth_gb_s"),
        Bf16Tflops: PeakTflops ?? 1, Fp8Tflops: null, Int8Tops: null, Interconnect: "none", InterconnectGbS: 1, MaxPerNode: 1,
        Source: "calibration record", Date: Date ?? "");
}
