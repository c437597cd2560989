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

    /// <summary>Tokens per KV block.</summary>
    public int KvBlockSize { get; init; } = 16;

    /// <summary>Float matrices quantized as they load (<c>--quantize</c>); <see cref="WeightQuantization.None"/> runs them as stored.</summary>
    public WeightQuantization Quantization { get; init; } = WeightQuantization.None;

    /// <summary>When set, the mapped file is read through once at load (0..1 reported), so the first step does not page it in.</summary>
    public IProgress<double>? LoadProgress { get; init; }
}
