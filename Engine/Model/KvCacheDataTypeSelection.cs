using Fathom.Engine.KvCache;

namespace Fathom.Engine.Model;

/// <summary>Which element type a backend keeps its KV cache in, for a requested <see cref="KvCacheDataType"/>.</summary>
public static class KvCacheDataTypeSelection
{
    /// <summary>
    /// The type the KV cache of <paramref name="backend"/> holds (and writes block payloads in) when
    /// <paramref name="requested"/> is asked for: <c>auto</c> is f16 on the CPU backend (half the memory, as llama.cpp's
    /// default) and f32 on the reference backend (the exact oracle). The ILGPU backends keep K/V as f16 on the device
    /// and exchange f32 payloads for <c>auto</c> or <c>f16</c> (reported as f32); <c>fp8</c> is e4m3 bytes on every
    /// backend, and its payloads are those bytes (what the device stores is what a second tier stores).
    /// </summary>
    /// <param name="requested">The requested type.</param>
    /// <param name="backend">The backend, <see cref="ComputeBackendKind.Auto"/> already resolved.</param>
    /// <exception cref="NotSupportedException"><c>f32</c> on an ILGPU backend, or an undefined value.</exception>
    public static KvCacheDataType Resolve(KvCacheDataType requested, ComputeBackendKind backend)
    {
        if (!Enum.IsDefined(requested))
        {
            throw new NotSupportedException($"KV cache data type {(int)requested} is not one of {string.Join(", ", KvCacheDataTypes.AllNames)}");
        }

        return backend switch
        {
            ComputeBackendKind.Cuda or ComputeBackendKind.IlgpuCpu when requested == KvCacheDataType.F32 =>
                throw new NotSupportedException($"the {ComputeBackendKinds.ToName(backend)} backend keeps K/V as f16 on the device; a f32 KV cache needs the cpu or reference backend"),
            ComputeBackendKind.Cuda or ComputeBackendKind.IlgpuCpu => requested == KvCacheDataType.Fp8 ? KvCacheDataType.Fp8 : KvCacheDataType.F32,
            _ when requested != KvCacheDataType.Auto => requested,
            ComputeBackendKind.Reference => KvCacheDataType.F32,
            _ => KvCacheDataType.F16,
        };
    }
}
