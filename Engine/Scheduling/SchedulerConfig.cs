namespace Fathom.Engine.Scheduling;

/// <summary>Limits and policy of the <see cref="Scheduler"/>.</summary>
public sealed record SchedulerConfig
{
    /// <summary>Most tokens computed in one forward step (decodes and prefill chunks together).</summary>
    public int MaxNumBatchedTokens { get; init; } = 2048;

    /// <summary>Most sequences running at once.</summary>
    public int MaxNumSequences { get; init; } = 256;

    /// <summary>Admission and preemption order.</summary>
    public SchedulingPolicy Policy { get; init; } = SchedulingPolicy.Fcfs;

    /// <summary>Split long prompts over several steps so decodes never stall; false admits a prompt only whole.</summary>
    public bool EnableChunkedPrefill { get; init; } = true;

    /// <summary>The model's context length (prompt plus output); null: only the KV pool limits it.</summary>
    public int? MaxModelLength { get; init; }

    /// <summary>The model's end-of-generation token ids (every EOG id of the GGUF), which stop unless ignore_eos.</summary>
    public IReadOnlyCollection<int> EndOfGenerationTokenIds { get; init; } = [];

    /// <summary>Checks the limits.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive limit.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxNumBatchedTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxNumSequences);
        if (MaxModelLength is { } length)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length, nameof(MaxModelLength));
        }
    }
}
