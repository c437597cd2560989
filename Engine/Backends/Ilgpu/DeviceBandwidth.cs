using Fathom.Engine.Model;
using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>Measures an ILGPU device's memory bandwidth with device-to-device copies (the ceiling decode can reach).</summary>
public static class DeviceBandwidth
{
    /// <summary>
    /// Copies a <paramref name="bytes"/>-byte buffer to another <paramref name="repeats"/> times and returns the best
    /// rate in GB/s (10^9 bytes/s), counting each byte read and written.
    /// </summary>
    /// <exception cref="BackendUnavailableException">The backend's device is not present.</exception>
    public static double MeasureCopyGigabytesPerSecond(ComputeBackendKind kind, long bytes, int repeats = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        using var device = IlgpuDevice.Open(IlgpuBackendSelection.Resolve(kind) is var k && IlgpuBackendSelection.IsIlgpu(k) ? k : ComputeBackendKind.IlgpuCpu);
        var accelerator = device.Accelerator;
        using var source = accelerator.Allocate1D<byte>(bytes);
        using var destination = accelerator.Allocate1D<byte>(bytes);
        source.MemSetToZero();
        source.View.CopyTo(destination.View); // warm-up
        accelerator.Synchronize();
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            source.View.CopyTo(destination.View);
            accelerator.Synchronize();
            best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return 2.0 * bytes / best / 1e9;
    }
}
