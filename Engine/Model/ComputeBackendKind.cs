namespace Fathom.Engine.Model;

/// <summary>Which backend runs the forward pass. Command-line and configuration names: see <see cref="ComputeBackendKinds"/>.</summary>
public enum ComputeBackendKind
{
    /// <summary>Multi-threaded SIMD CPU backend (the default). Name: <c>cpu</c>.</summary>
    Cpu,

    /// <summary>Scalar reference backend: slow, the oracle for tests. Name: <c>reference</c>.</summary>
    Reference,

    /// <summary>CUDA when a device is present, else <see cref="Cpu"/>. Name: <c>auto</c>.</summary>
    Auto,

    /// <summary>The ILGPU kernels on an NVIDIA GPU; fails with a one-line message when there is none. Name: <c>cuda</c>.</summary>
    Cuda,

    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator: very slow, for checking kernels without a GPU. Name: <c>ilgpu-cpu</c>.</summary>
    IlgpuCpu,
}

/// <summary>The names of <see cref="ComputeBackendKind"/> values as written on command lines and in configuration.</summary>
public static class ComputeBackendKinds
{
    private static readonly (string Name, ComputeBackendKind Kind)[] Names =
    [
        ("auto", ComputeBackendKind.Auto),
        ("cpu", ComputeBackendKind.Cpu),
        ("reference", ComputeBackendKind.Reference),
        ("cuda", ComputeBackendKind.Cuda),
        ("ilgpu-cpu", ComputeBackendKind.IlgpuCpu),
    ];

    /// <summary>Every accepted name, in display order.</summary>
    public static IReadOnlyList<string> AllNames { get; } = [.. Names.Select(n => n.Name)];

    /// <summary>The name of <paramref name="kind"/> (<c>ilgpu-cpu</c> for <see cref="ComputeBackendKind.IlgpuCpu"/>).</summary>
    public static string ToName(ComputeBackendKind kind)
    {
        foreach (var (name, k) in Names)
        {
            if (k == kind)
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown backend kind");
    }

    /// <summary>Parses a name (case-insensitive; the enum member names such as <c>IlgpuCpu</c> are accepted too).</summary>
    public static bool TryParse(string? text, out ComputeBackendKind kind)
    {
        foreach (var (name, k) in Names)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }

        return Enum.TryParse(text, ignoreCase: true, out kind) && Enum.IsDefined(kind);
    }
}
