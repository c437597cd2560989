using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The instruction-set tiers the CPU kernels are written for, lowest first (ARM64's tiers before x64's, which the
/// comparisons <c>tier &gt;= Avx2</c> rely on). The runtime's switches (<c>DOTNET_EnableAVX512=0</c>,
/// <c>DOTNET_EnableAVXVNNI=0</c>, <c>DOTNET_EnableAVX2=0</c>) turn the upper tiers off, which is how tests run every
/// tier on one machine; the tiers whose one byte-dot instruction a machine lacks run there under
/// <see cref="KernelTiers.EmulateVariable"/>.
/// </summary>
public enum KernelTier
{
    /// <summary>No vector hardware the kernels use: scalar loops.</summary>
    Scalar,

    /// <summary>
    /// The portable 128-bit <see cref="Vector128"/> API: ARM64 AdvSimd without the dot-product extension, or SSE4 on an
    /// x64 with AVX2 switched off.
    /// </summary>
    Vector128,

    /// <summary>
    /// ARM64 AdvSimd with the dot-product extension (<c>sdot</c>, .NET's <see cref="Dp"/>: Graviton2 and later, Ampere,
    /// Apple M1 and later): the <see cref="Vector128"/> kernels with each row's four byte products summed in one instruction.
    /// </summary>
    NeonDot,

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
    /// <summary>
    /// The environment variable that makes this process run a tier whose byte-dot instruction (<c>vpdpbusd</c>, <c>sdot</c>)
    /// the machine lacks, through that instruction's exact software emulation: <c>avx-vnni</c> (needs AVX2 and FMA) or
    /// <c>neon-dot</c> (needs 128-bit vector hardware). For tests only: everything but that one instruction is the tier's
    /// production code, and outputs are bit-identical to the hardware's, but far slower.
    /// </summary>
    public const string EmulateVariable = "FATHOM_CPU_EMULATE_TIER";

    /// <summary>The tier <see cref="EmulateVariable"/> asked for, if any (checked against the hardware at start).</summary>
    internal static KernelTier? Emulated { get; } = ReadEmulated();

    /// <summary>The highest tier this process can run.</summary>
    public static KernelTier Current { get; } = Emulated ?? Detect();

    /// <summary>
    /// Whether the kernels use <c>vpdpbusd</c>: in hardware, or emulated where <see cref="EmulateVariable"/> forced the
    /// AvxVnni tier. (A static readonly the JIT folds, so the non-VNNI tiers pay nothing for the check.)
    /// </summary>
    internal static bool UsesAvxVnni { get; } = AvxVnni.IsSupported || Emulated == KernelTier.AvxVnni;

    /// <summary>Whether the kernels use <c>sdot</c>: in hardware, or emulated where <see cref="EmulateVariable"/> forced the NeonDot tier.</summary>
    internal static bool UsesDotProduct { get; } = Current == KernelTier.NeonDot;

    /// <summary>Whether the kernels of <paramref name="tier"/> can run in this process.</summary>
    public static bool Supports(KernelTier tier) => tier <= Current
        && (tier != KernelTier.AvxVnni || UsesAvxVnni)
        && (tier != KernelTier.NeonDot || UsesDotProduct);

    /// <summary>A short name for logs and benchmark tables, e.g. <c>avx512</c>, <c>avx2</c>, <c>avx-vnni</c>, <c>neon-dot</c>.</summary>
    public static string Name(KernelTier tier) => tier switch
    {
        KernelTier.Scalar => "scalar",
        KernelTier.Vector128 => "vector128",
        KernelTier.NeonDot => "neon-dot",
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

        if (!System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
        {
            return KernelTier.Scalar;
        }

        return Dp.IsSupported ? KernelTier.NeonDot : KernelTier.Vector128;
    }

    /// <summary>
    /// The tier <see cref="EmulateVariable"/> names. An unknown name, or a tier whose other instructions this machine
    /// lacks, fails the process's first kernel use with a message naming the variable rather than silently testing
    /// something else.
    /// </summary>
    private static KernelTier? ReadEmulated()
    {
        var value = Environment.GetEnvironmentVariable(EmulateVariable);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var (tier, available) = value switch
        {
            "avx-vnni" => (KernelTier.AvxVnni, Avx2.IsSupported && Fma.IsSupported),
            "neon-dot" => (KernelTier.NeonDot, System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated),
            _ => throw new InvalidOperationException($"{EmulateVariable}={value}: expected avx-vnni or neon-dot"),
        };
        return available
            ? tier
            : throw new InvalidOperationException($"{EmulateVariable}={value}: this CPU lacks the tier's other instructions");
    }
}
