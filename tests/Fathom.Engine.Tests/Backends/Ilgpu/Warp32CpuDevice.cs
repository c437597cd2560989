using Fathom.Engine.Backends.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// ILGPU's CPU accelerator simulating a 32-lane warp (as its <c>CPUDevice.Nvidia</c> does; 4 warps, one
/// multiprocessor), with the matmul kernels loaded: the tensor-core kernel's fragment mapping needs 32 lanes, and the warp-per-row kernels run at their real width.
/// </summary>
public sealed class Warp32CpuDevice : IDisposable
{
    private readonly Context _context;

    public Warp32CpuDevice()
    {
        _context = Context.Create(b => b.CPU(new CPUDevice(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 4, numMultiprocessors: 1)).Math(MathMode.Default).EnableAlgorithms());
        Accelerator = _context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel);
        MatMul = new MatMulKernels(Accelerator);
    }

    internal Accelerator Accelerator { get; }

    internal MatMulKernels MatMul { get; }

    internal MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(T[] values)
        where T : unmanaged => Accelerator.Allocate1D(values);

    public void Dispose()
    {
        Accelerator.Dispose();
        _context.Dispose();
    }
}
