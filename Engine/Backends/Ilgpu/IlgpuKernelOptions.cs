namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Which of the ILGPU backend's newer kernel paths may run, so that a wrong answer on a real GPU can be bisected
/// without rebuilding: each switch turns one path off, falling back to the kernel that ran before it existed.
/// Read once per process from the environment (<see cref="Current"/>); a path that is on still runs only where the
/// device supports it (tensor cores and dp4a on CUDA, flash attention for prefill-sized steps).
/// </summary>
/// <param name="TensorCores"><c>FATHOM_ILGPU_TENSOR_CORES</c>: the <c>mma.sync</c> matmul for 16+ input rows (off: warp-per-row kernel).</param>
/// <param name="Int8Input"><c>FATHOM_ILGPU_INT8_INPUT</c>: Q8_0/Q4_0/Q4_K matmuls on an int8 copy of the input with dp4a (off: f32 input).</param>
/// <param name="FlashAttention"><c>FATHOM_ILGPU_FLASH_ATTENTION</c>: the tiled prefill attention kernel (off: the warp-per-(token, head) kernel).</param>
/// <param name="PeerAllReduce"><c>FATHOM_ILGPU_PEER_ALLREDUCE</c>: the tensor-parallel all-reduce by device-to-device copies where every pair of devices can access each other (off: host-staged).</param>
internal sealed record IlgpuKernelOptions(bool TensorCores = true, bool Int8Input = true, bool FlashAttention = true, bool PeerAllReduce = true)
{
    /// <summary>Environment variable of <see cref="TensorCores"/>.</summary>
    public const string TensorCoresVariable = "FATHOM_ILGPU_TENSOR_CORES";

    /// <summary>Environment variable of <see cref="Int8Input"/>.</summary>
    public const string Int8InputVariable = "FATHOM_ILGPU_INT8_INPUT";

    /// <summary>Environment variable of <see cref="FlashAttention"/>.</summary>
    public const string FlashAttentionVariable = "FATHOM_ILGPU_FLASH_ATTENTION";

    /// <summary>Environment variable of <see cref="PeerAllReduce"/>.</summary>
    public const string PeerAllReduceVariable = "FATHOM_ILGPU_PEER_ALLREDUCE";

    private static readonly Lazy<IlgpuKernelOptions> FromProcess = new(() => FromEnvironment(Environment.GetEnvironmentVariable));

    /// <summary>Every path on (the default).</summary>
    public static IlgpuKernelOptions All { get; } = new();

    /// <summary>The switches of this process's environment, read on first use.</summary>
    /// <exception cref="ArgumentException">A switch has a value other than 0/1/false/true/off/on (or empty).</exception>
    public static IlgpuKernelOptions Current => FromProcess.Value;

    /// <summary>Reads the four switches through <paramref name="read"/> (unset or empty: on).</summary>
    /// <exception cref="ArgumentException">A switch has a value other than 0/1/false/true/off/on (or empty).</exception>
    public static IlgpuKernelOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return new IlgpuKernelOptions(
            Switch(read, TensorCoresVariable),
            Switch(read, Int8InputVariable),
            Switch(read, FlashAttentionVariable),
            Switch(read, PeerAllReduceVariable));
    }

    private static bool Switch(Func<string, string?> read, string name)
    {
        var value = read(name)?.Trim();
        return value?.ToUpperInvariant() switch
        {
            null or "" or "1" or "TRUE" or "ON" => true,
            "0" or "FALSE" or "OFF" => false,
            _ => throw new ArgumentException($"{name}={value} is not a switch: use 0 (off) or 1 (on)", nameof(read)),
        };
    }
}
