namespace Fathom.Planner.Hardware;

/// <summary>One accelerator model from the hardware catalog (or a device described by a calibration record).</summary>
/// <param name="Id">Catalog id (h100-sxm, a100-40, ...).</param>
/// <param name="Name">Marketing name.</param>
/// <param name="MemoryMib">Device memory the driver reports, in MiB.</param>
/// <param name="BandwidthGbS">Peak memory bandwidth, GB/s (10^9 bytes).</param>
/// <param name="Bf16Tflops">Dense BF16 tensor throughput, TFLOP/s.</param>
/// <param name="Fp8Tflops">Dense FP8 tensor throughput, TFLOP/s; null when the device has no FP8.</param>
/// <param name="Int8Tops">Dense INT8 tensor throughput, TOP/s.</param>
/// <param name="Interconnect">nvlink, xgmi or pcie.</param>
/// <param name="InterconnectGbS">GPU-to-GPU bandwidth per GPU and direction, GB/s.</param>
/// <param name="MaxPerNode">GPUs one server holds (the tensor-parallel domain).</param>
/// <param name="Source">Where the figures come from.</param>
/// <param name="Date">When the source was published (yyyy-mm).</param>
/// <param name="SourceUrl">The public page or document of the source, where there is one.</param>
public sealed record GpuSpec(
    string Id,
    string Name,
    long MemoryMib,
    double BandwidthGbS,
    double Bf16Tflops,
    double? Fp8Tflops,
    double? Int8Tops,
    string Interconnect,
    double InterconnectGbS,
    int MaxPerNode,
    string Source,
    string Date,
    string? SourceUrl = null)
{
    /// <summary>Device memory in bytes.</summary>
    public long MemoryBytes => MemoryMib * 1024 * 1024;

    /// <summary>True when GPUs talk over NVLink or Infinity Fabric rather than PCIe.</summary>
    public bool HasFastInterconnect => Interconnect is "nvlink" or "xgmi";
}
