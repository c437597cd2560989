using Fathom.Engine.Backends.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// One ILGPU CPU accelerator with the kernels loaded, shared by a test class (kernel compilation is the slow part).
/// It simulates NVIDIA's 32-lane warp, so the kernel tests run the lane mappings, reductions and head widths a GPU runs.
/// </summary>
public sealed class IlgpuCpuDevice : IDisposable
{
    internal IlgpuDevice Device { get; } = IlgpuDevice.OpenCpu(IlgpuDevice.NvidiaLanesPerWarp);

    internal MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(T[] values)
        where T : unmanaged => Device.Accelerator.Allocate1D(values);

    internal static T[] Download<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer)
        where T : unmanaged => buffer.GetAsArray1D();

    public void Dispose() => Device.Dispose();
}
