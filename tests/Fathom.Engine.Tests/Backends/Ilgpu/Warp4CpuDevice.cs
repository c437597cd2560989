using Fathom.Engine.Backends.Ilgpu;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The <c>ilgpu-cpu</c> backend's own device (4-lane warps, 4 warps: 16-thread groups), with every kernel loaded: kernels
/// that must not depend on the warp width (flash attention) run here as well as on <see cref="IlgpuCpuDevice"/>'s 32 lanes.
/// </summary>
public sealed class Warp4CpuDevice : IDisposable
{
    internal IlgpuDevice Device { get; } = IlgpuDevice.OpenCpu(IlgpuDevice.CpuLanesPerWarp);

    public void Dispose() => Device.Dispose();
}
