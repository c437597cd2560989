using Fathom.Engine.Model;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>Turns a requested <see cref="ComputeBackendKind"/> into the one that runs: <c>auto</c> becomes CUDA when a device exists, else CPU.</summary>
internal static class IlgpuBackendSelection
{
    public static ComputeBackendKind Resolve(ComputeBackendKind requested) => requested switch
    {
        ComputeBackendKind.Auto => IlgpuDevice.CudaAvailable() ? ComputeBackendKind.Cuda : ComputeBackendKind.Cpu,
        _ => requested,
    };

    /// <summary>Whether <paramref name="kind"/> runs the ILGPU kernels.</summary>
    public static bool IsIlgpu(ComputeBackendKind kind) => kind is ComputeBackendKind.Cuda or ComputeBackendKind.IlgpuCpu;
}
