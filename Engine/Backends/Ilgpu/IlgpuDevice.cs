using System.Reflection;
using Fathom.Engine.Model;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>An ILGPU context and one accelerator (a CUDA GPU, or ILGPU's CPU simulator) with every kernel loaded.</summary>
internal sealed class IlgpuDevice : IDisposable
{
    private readonly Context _context;

    private IlgpuDevice(Context context, Accelerator accelerator, string name, IlgpuKernelOptions? options = null)
    {
        _context = context;
        Accelerator = accelerator;
        Name = name;
        Elementwise = new ElementwiseKernels(accelerator);
        MatMul = new MatMulKernels(accelerator, options);
        Attention = new AttentionKernels(accelerator);
        FlashAttention = new FlashAttentionKernels(accelerator, options);
        KvBlocks = new KvBlockKernels(accelerator);
        Sampling = new SamplingKernels(accelerator);
    }

    public string Name { get; }

    public Accelerator Accelerator { get; }

    public ElementwiseKernels Elementwise { get; }

    public MatMulKernels MatMul { get; }

    public AttentionKernels Attention { get; }

    public FlashAttentionKernels FlashAttention { get; }

    public KvBlockKernels KvBlocks { get; }

    public SamplingKernels Sampling { get; }

    /// <summary>Device memory this device reports instead of the accelerator's own figure (CPU accelerator only: tests size against it).</summary>
    public long? ReportedMemoryBytes { get; private init; }

    /// <summary>Total device memory in bytes.</summary>
    public long TotalMemoryBytes => ReportedMemoryBytes
        ?? (Accelerator is CudaAccelerator ? Accelerator.MemorySize : Math.Min(Accelerator.MemorySize, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes));

    /// <summary>
    /// Free device memory in bytes now (CUDA: the driver's figure, other processes included), or null where the
    /// accelerator cannot tell (the CPU accelerator: its callers count what they allocated).
    /// </summary>
    public long? FreeMemoryBytes() => Accelerator is CudaAccelerator cuda ? cuda.GetFreeMemory() : null;

    /// <summary>Every kernel entry point (explicitly grouped static methods named <c>*Kernel</c>), for ahead-of-time checks.</summary>
    public static IReadOnlyList<MethodInfo> KernelMethods { get; } =
    [
        .. new[] { typeof(ElementwiseKernels), typeof(MatMulKernels), typeof(AttentionKernels), typeof(FlashAttentionKernels), typeof(ColumnOrderKernels), typeof(KvBlockKernels), typeof(SamplingKernels), typeof(AllReduceKernels) }
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal)),
    ];

    /// <summary>Whether ILGPU finds a CUDA device (false too when the CUDA driver is missing).</summary>
    public static bool CudaAvailable()
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            return context.GetCudaDevices().Count > 0;
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Opens the CUDA device of ordinal <paramref name="index"/> of the <paramref name="needed"/> a tensor-parallel run uses (the first of one by default).</summary>
    /// <exception cref="BackendUnavailableException">No CUDA device (or driver) is present, or fewer than <paramref name="needed"/>.</exception>
    public static IlgpuDevice OpenCuda(int index = 0, int needed = 1)
    {
        Context? context = null;
        try
        {
            context = Context.Create(b => b.Cuda().Math(MathMode.Default).EnableAlgorithms());
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                throw new BackendUnavailableException("backend 'cuda' needs an NVIDIA GPU, and ILGPU found no CUDA device on this machine");
            }

            if (devices.Count < needed)
            {
                throw new BackendUnavailableException($"backend 'cuda' with tensor parallelism {needed} needs {needed} CUDA devices, and ILGPU found {devices.Count}");
            }

            // By the driver's ordinal (what nvidia-smi and CUDA_VISIBLE_DEVICES number), not by position in ILGPU's list.
            CudaDevice? device = null;
            foreach (var candidate in devices)
            {
                device = candidate.DeviceId == index ? candidate : device;
            }

            if (device is null)
            {
                throw new BackendUnavailableException($"backend 'cuda' has no CUDA device with ordinal {index}");
            }

            var accelerator = device.CreateCudaAccelerator(context);
            return new IlgpuDevice(context, accelerator, "cuda");
        }
        catch (Exception e) when (e is (NotSupportedException and not BackendUnavailableException) or DllNotFoundException or TypeInitializationException or CudaException)
        {
            context?.Dispose();
            throw new BackendUnavailableException($"backend 'cuda' is not available here: {FirstLine(e.Message)}", e);
        }
        catch
        {
            context?.Dispose();
            throw;
        }
    }

    /// <summary>An NVIDIA warp's lanes: the kernel tests simulate it (as ILGPU's <c>CPUDevice.Nvidia</c> does) so the warp-32 code paths run.</summary>
    public const int NvidiaLanesPerWarp = 32;

    /// <summary>
    /// Lanes of a warp of the <c>ilgpu-cpu</c> backend. Every simulated thread is an OS thread and every warp shuffle
    /// and group barrier a rendezvous of them: a 32-lane device (4 warps, the matmul's group) runs 128 threads per
    /// group, and a whole-model step on it takes minutes on a 2-core machine, so whole models run at 4 lanes and
    /// the kernel tests at 32.
    /// </summary>
    public const int CpuLanesPerWarp = 4;

    /// <summary>
    /// Opens ILGPU's CPU accelerator: slow, for checking kernels. The device is one multiprocessor of
    /// <paramref name="warpsPerGroup"/> warps of <paramref name="lanesPerWarp"/> lanes (the kernels take the warp
    /// size from the device; <see cref="NvidiaLanesPerWarp"/> runs the widths a GPU runs: head_dim 128, 32-lane
    /// reductions). <paramref name="memoryBytes"/>, when given, is the memory the device reports (the CPU
    /// accelerator otherwise reports the host's), for sizing tests. <paramref name="options"/> replaces the process's
    /// <see cref="IlgpuKernelOptions.Current"/> switches (tests compare the paths in one process).
    /// </summary>
    public static IlgpuDevice OpenCpu(int lanesPerWarp = CpuLanesPerWarp, int warpsPerGroup = 4, long? memoryBytes = null, IlgpuKernelOptions? options = null)
    {
        var context = Context.Create(b => b.CPU(new CPUDevice(numThreadsPerWarp: lanesPerWarp, numWarpsPerMultiprocessor: warpsPerGroup, numMultiprocessors: 1)).Math(MathMode.Default).EnableAlgorithms());
        try
        {
            var accelerator = context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel);
            return new IlgpuDevice(context, accelerator, "ilgpu-cpu", options) { ReportedMemoryBytes = memoryBytes };
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens device <paramref name="index"/> of <paramref name="needed"/> for <paramref name="kind"/>
    /// (<see cref="ComputeBackendKind.Cuda"/>: that CUDA device; <see cref="ComputeBackendKind.IlgpuCpu"/>: a fresh CPU accelerator).
    /// </summary>
    public static IlgpuDevice Open(ComputeBackendKind kind, int index = 0, int needed = 1) => kind switch
    {
        ComputeBackendKind.Cuda => OpenCuda(index, needed),
        ComputeBackendKind.IlgpuCpu => OpenCpu(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an ILGPU backend"),
    };

    public void Dispose()
    {
        FlashAttention.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
