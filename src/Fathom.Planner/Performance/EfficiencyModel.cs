using Fathom.Planner.Formats;
using Fathom.Planner.Hardware;
using Fathom.Planner.Models;

namespace Fathom.Planner.Performance;

/// <summary>
/// How far real kernels fall short of the hardware's peaks. Decode streams weights at a fraction of peak
/// bandwidth that depends on the kernel family; every tensor-parallel all-reduce costs a fixed launch
/// latency, a per-hop latency for each of the 2(TP−1) ring steps, and its bytes over the link; matrix math
/// reaches a fraction of peak TFLOP/s. Defaults are derived from published measurements (not fitted per case);
/// <c>fathom bench</c> calibration records replace the bandwidth fraction for a device.
/// </summary>
/// <param name="DenseBandwidthFraction">Fraction of peak bandwidth decode reaches with 16-bit/fp8 weights.</param>
/// <param name="Int8BandwidthFraction">Same, with int8 weights dequantized on the fly.</param>
/// <param name="Int4BandwidthFraction">Same, with 4-bit weights dequantized on the fly.</param>
/// <param name="CollectiveLaunchSeconds">Fixed cost of one all-reduce call (launch and synchronization).</param>
/// <param name="FastHopSeconds">Latency of one ring step over NVLink/Infinity Fabric.</param>
/// <param name="PcieHopSeconds">Latency of one ring step over PCIe.</param>
/// <param name="ComputeFraction">Fraction of peak tensor throughput reached by large matrix multiplications.</param>
/// <param name="Provenance">Where each number comes from, for the plan's assumptions.</param>
public sealed record EfficiencyModel(
    double DenseBandwidthFraction,
    double Int8BandwidthFraction,
    double Int4BandwidthFraction,
    double CollectiveLaunchSeconds,
    double FastHopSeconds,
    double PcieHopSeconds,
    double ComputeFraction,
    IReadOnlyList<string> Provenance)
{
    // Assumed, not measured here: NCCL-class small all-reduces cost several microseconds before any hop.
    private const double AssumedLaunchSeconds = 8e-6;
    private const double AssumedPcieHopSeconds = 5e-6;
    private const double AssumedComputeFraction = 0.5;

    /// <summary>The defaults derived from the shipped catalog and measurements.</summary>
    public static EfficiencyModel Default { get; } = Derive(HardwareCatalog.Default, PublishedMeasurement.Default);

    /// <summary>The bandwidth fraction decode reaches for a kernel family.</summary>
    public double BandwidthFraction(KernelClass kernel) => kernel switch
    {
        KernelClass.EightBit => Int8BandwidthFraction,
        KernelClass.FourBit => Int4BandwidthFraction,
        _ => DenseBandwidthFraction,
    };

    /// <summary>A copy with the bandwidth fraction of <paramref name="kernel"/> replaced.</summary>
    public EfficiencyModel WithBandwidthFraction(KernelClass kernel, double fraction, string provenance) => kernel switch
    {
        KernelClass.EightBit => this with { Int8BandwidthFraction = fraction, Provenance = [.. Provenance, provenance] },
        KernelClass.FourBit => this with { Int4BandwidthFraction = fraction, Provenance = [.. Provenance, provenance] },
        _ => this with { DenseBandwidthFraction = fraction, Provenance = [.. Provenance, provenance] },
    };

    /// <summary>
    /// Seconds for one all-reduce of <paramref name="bytes"/> across <paramref name="tp"/> GPUs (ring: 2(TP−1) steps,
    /// each moving 1/TP of the message).
    /// </summary>
    public double AllReduceSeconds(GpuSpec gpu, int tp, double bytes)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        if (tp <= 1)
        {
            return 0;
        }

        var steps = 2.0 * (tp - 1);
        var hop = gpu.HasFastInterconnect ? FastHopSeconds : PcieHopSeconds;
        return CollectiveLaunchSeconds + steps * hop + steps / tp * bytes / (gpu.InterconnectGbS * 1e9);
    }

    /// <summary>
    /// Derives the defaults: each bandwidth fraction is the bandwidth a measurement reports over its GPU's peak;
    /// the NVLink hop latency is what remains of a tensor-parallel measurement's step time after streaming its
    /// weights at the dense fraction, spread over its all-reduces.
    /// </summary>
    /// <exception cref="InvalidOperationException">A needed measurement is missing from <paramref name="measurements"/>.</exception>
    public static EfficiencyModel Derive(HardwareCatalog catalog, IReadOnlyList<PublishedMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(measurements);
        PublishedMeasurement Find(string parameter) => measurements.FirstOrDefault(m => m.Derives == parameter)
            ?? throw new InvalidOperationException($"no published measurement derives {parameter}");
        double Fraction(PublishedMeasurement m) => (m.ReportedBandwidthGbS
            ?? throw new InvalidOperationException($"{m.Id} reports no bandwidth")) / catalog.GetGpu(m.Gpu).BandwidthGbS;

        var dense = Find("dense_bandwidth_fraction");
        var int8 = Find("int8_bandwidth_fraction");
        var int4 = Find("int4_bandwidth_fraction");
        var tpRun = Find("nvlink_hop_latency");

        var gpu = catalog.GetGpu(tpRun.Gpu);
        var shape = ModelPresets.Get(tpRun.Model);
        var budget = WeightBudget.Estimate(shape, WeightFormat.Parse(tpRun.Weights));
        var streamSeconds = budget.DecodeReadBytes / (double)tpRun.Tp / (gpu.BandwidthGbS * 1e9 * Fraction(dense));
        var perAllReduce = (1.0 / tpRun.TokSPerUser - streamSeconds) / (2.0 * shape.Layers);
        var hop = (perAllReduce - AssumedLaunchSeconds) / (2.0 * (tpRun.Tp - 1));
        if (hop <= 0)
        {
            throw new InvalidOperationException($"{tpRun.Id} leaves no time for all-reduce hops; check the data");
        }

        return new EfficiencyModel(Fraction(dense), Fraction(int8), Fraction(int4), AssumedLaunchSeconds, hop, AssumedPcieHopSeconds, AssumedComputeFraction,
        [
            $"decode bandwidth fraction {Fraction(dense):0.###} for 16-bit/fp8 weights, from {dense.Id} ({dense.ReportedBandwidthGbS} GB/s of {catalog.GetGpu(dense.Gpu).BandwidthGbS})",
            $"decode bandwidth fraction {Fraction(int8):0.###} for int8 weights, from {int8.Id}",
            $"decode bandwidth fraction {Fraction(int4):0.###} for 4-bit weights, from {int4.Id}; engines with Marlin-class kernels do better, calibrate with fathom bench",
            $"all-reduce = {AssumedLaunchSeconds * 1e6:0} us launch (assumed) + 2(TP-1) hops of {hop * 1e6:0.00} us (NVLink/xGMI, derived from {tpRun.Id}) or {AssumedPcieHopSeconds * 1e6:0} us (PCIe, assumed) + bytes over the link; 2 all-reduces per layer",
            $"matrix multiplications reach {AssumedComputeFraction * 100:0}% of peak dense TFLOP/s (assumed; no published anchor in the data)",
        ]);
    }
}
