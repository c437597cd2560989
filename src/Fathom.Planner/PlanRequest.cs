namespace Fathom.Planner;

/// <summary>What to plan for. Everything but <see cref="Model"/> and <see cref="Gpu"/> has a default.</summary>
public sealed record PlanRequest
{
    /// <summary>A preset name, an HF <c>config.json</c> (or its folder), or a <c>.gguf</c> file.</summary>
    public required string Model { get; init; }

    /// <summary>Catalog GPU id (h100-sxm, a100-40, ...), or a device described by a calibration record.</summary>
    public required string Gpu { get; init; }

    /// <summary>Weight format; null means bf16 for presets and configs, and the file's own tensors for a GGUF.</summary>
    public string? Weights { get; init; }

    /// <summary>Group size for gptq/awq formats (0 = per-channel).</summary>
    public int GroupSize { get; init; } = 128;

    /// <summary>KV-cache element type: f16, fp8 or q8_0.</summary>
    public string KvCache { get; init; } = "f16";

    /// <summary>The longest sequence (prompt + output) a request may reach; the server must admit one.</summary>
    public int Context { get; init; } = 8192;

    /// <summary>Sequences decoding at the same time.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>Typical prompt length in tokens.</summary>
    public int PromptTokens { get; init; } = 1024;

    /// <summary>Typical output length in tokens.</summary>
    public int OutputTokens { get; init; } = 512;

    /// <summary>Largest acceptable time to first token, seconds (optional; steers the recommended layout).</summary>
    public double? TargetTtftS { get; init; }

    /// <summary>Smallest acceptable per-user decode speed, tokens/s (optional; steers the recommended layout).</summary>
    public double? TargetTokSPerUser { get; init; }

    /// <summary>Force this tensor-parallel size instead of choosing one.</summary>
    public int? Tp { get; init; }

    /// <summary>Force this many pipeline stages instead of choosing.</summary>
    public int? Pp { get; init; }

    /// <summary>CPU threads, for a CPU device calibrated with kernel rates (null: the calibration run's own).</summary>
    public int? Threads { get; init; }

    /// <summary>Sequence length assumed for the fine-tuning estimate.</summary>
    public int FineTuneSequence { get; init; } = 4096;

    /// <summary>Validates the numbers.</summary>
    /// <exception cref="PlannerInputException">A count is not positive or the lengths exceed the context.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Model) || string.IsNullOrWhiteSpace(Gpu))
        {
            throw new PlannerInputException("both a model and a GPU are required");
        }

        if (Context < 1 || Concurrency < 1 || PromptTokens < 1 || OutputTokens < 1 || FineTuneSequence < 1)
        {
            throw new PlannerInputException("context, concurrency, prompt and output tokens must be positive");
        }

        if (PromptTokens + OutputTokens > Context)
        {
            throw new PlannerInputException($"prompt ({PromptTokens}) + output ({OutputTokens}) tokens exceed the context ({Context})");
        }

        if (Tp is < 1 || Pp is < 1 || Threads is < 1)
        {
            throw new PlannerInputException("tp, pp and threads must be at least 1");
        }
    }
}
