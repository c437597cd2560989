namespace Fathom.Engine.Model;

/// <summary>How to load a model: backend, threads and KV cache size.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Backend to run on.</summary>
    public ComputeBackendKind Backend { get; init; } = ComputeBackendKind.Cpu;

    /// <summary>Worker threads of the CPU backend; null = physical cores.</summary>
    public int? Threads { get; init; }

    /// <summary>KV cache blocks; null = enough for one sequence of min(context length, 4096) tokens.</summary>
    public int? KvBlockCount { get; init; }

    /// <summary>
    /// Accelerators to split the model over (Megatron-style tensor parallelism; ILGPU backends only): <c>cuda</c>
    /// uses CUDA devices 0..N-1, <c>ilgpu-cpu</c> N CPU accelerators. Must divide the attention and KV heads.
    /// </summary>
    public int TensorParallel { get; init; } = 1;

    /// <summary>Element type of the KV cache (see <see cref="KvCacheDataTypeSelection.Resolve"/>); <c>auto</c>: f16 on the CPU backend.</summary>
    public KvCache.KvCacheDataType KvCacheDataType { get; init; } = KvCache.KvCacheDataType.Auto;

    /// <summary>
    /// Fraction of each device's memory this process may use (<c>--gpu-memory-utilization</c>, vLLM's meaning;
    /// ILGPU backends only): the KV cache gets what is left of it after the weights and a step's activations.
    /// Excludes <see cref="KvBlockCount"/>; null: <see cref="KvBlockCount"/> decides.
    /// </summary>
    public double? GpuMemoryUtilization { get; init; }

    /// <summary>Opens the (first) ILGPU device instead of the backend's default, which the model then owns: tests size memory against a device that reports a chosen amount.</summary>
    internal Func<Backends.Ilgpu.IlgpuDevice>? OpenDevice { get; init; }

    /// <summary>Tokens per KV block.</summary>
    public int KvBlockSize { get; init; } = 16;

    /// <summary>Float matrices quantized as they load (<c>--quantize</c>); <see cref="WeightQuantization.None"/> runs them as stored.</summary>
    public WeightQuantization Quantization { get; init; } = WeightQuantization.None;

    /// <summary>When set, the mapped file is read through once at load (0..1 reported), so the first step does not page it in.</summary>
    public IProgress<double>? LoadProgress { get; init; }
}
