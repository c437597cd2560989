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

    /// <summary>Tokens per KV block.</summary>
    public int KvBlockSize { get; init; } = 16;

    /// <summary>When set, the mapped file is read through once at load (0..1 reported), so the first step does not page it in.</summary>
    public IProgress<double>? LoadProgress { get; init; }
}
