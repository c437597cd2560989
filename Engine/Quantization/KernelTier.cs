using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The instruction-set tiers the CPU kernels are written for, lowest first. The runtime's switches
/// (<c>DOTNET_EnableAVX512=0</c>, <c>DOTNET_EnableAVXVNNI=0</c>, <c>DOTNET_EnableAVX2=0</c>) turn the upper tiers off,
/// which is how tests run every tier on one machine.
/// </summary>
public enum KernelTier
{
    /// <summary>No vector hardware the kernels use: scalar loops.</summary>
    Scalar,

    /// <summary>
    /// The portable 128-bit <see cref="Vector128"/> API: ARM64 AdvSimd, or SSE4 on an x64 with AVX2 switched off.
    /// </summary>
    Vector128,

    /// <summary>AVX2 and FMA (256-bit), byte dots through <c>vpmaddubsw</c>/<c>vpmaddwd</c>.</summary>
    Avx2,

    /// <summary>AVX2, FMA and AVX-VNNI (<c>vpdpbusd</c> on 256-bit vectors).</summary>
    AvxVnni,

    /// <summary>AVX-512 F and BW (512-bit). .NET 10 exposes no 512-bit VNNI, so byte dots use <c>vpmaddubsw</c>.</summary>
    Avx512,
}

/// <summary>Which <see cref="KernelTier"/> this process runs, decided once from what the runtime reports.</summary>
public static class KernelTiers
{
    /// <summary>The highest tier this process can run.</summary>
    public static KernelTier Current { get; } = Detect();

    /// <summary>Whether the kernels of <paramref name="tier"/> can run in this process.</summary>
    public static bool Supports(KernelTier tier) => tier <= Current
        && (tier != KernelTier.AvxVnni || AvxVnni.IsSupported);

    /// <summary>A short name for logs and benchmark tables, e.g. <c>avx512</c>, <c>avx2</c>, <c>avx-vnni</c>.</summary>
    public static string Name(KernelTier tier) => tier switch
    {
        KernelTier.Scalar => "scalar",
        KernelTier.Vector128 => "vector128",
        KernelTier.Avx2 => "avx2",
        KernelTier.AvxVnni => "avx-vnni",
        KernelTier.Avx512 => "avx512",
        _ => throw new ArgumentOutOfRangeException(nameof(tier)),
    };

    private static KernelTier Detect()
    {
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported)
        {
            return KernelTier.Avx512;
        }

        if (Avx2.IsSupported && Fma.IsSupported)
        {
            return AvxVnni.IsSupported ? KernelTier.AvxVnni : KernelTier.Avx2;
        }

        return System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? KernelTier.Vector128 : KernelTier.Scalar;
    }
}
