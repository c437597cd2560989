namespace Fathom.Engine.Scheduling;

/// <summary>Limits and policy of the <see cref="Scheduler"/>.</summary>
public sealed record SchedulerConfig
{
    /// <summary>
    /// Most tokens computed in one forward step (decodes and prefill chunks together), fixed; null (the default): a
    /// budget learned from the engine's own step times that keeps a step near <see cref="StepTimeTarget"/> (see
    /// <see cref="StepTokenBudget"/>).
    /// </summary>
    public int? MaxNumBatchedTokens { get; init; }

    /// <summary>
    /// The time a forward step that carries running decodes should stay within when <see cref="MaxNumBatchedTokens"/>
    /// is null; null (the default): <see cref="StepTimeDecodeMultiple"/> times a decode-only step of the running
    /// sequences (at least <see cref="StepTokenBudget.MinimumAutoTarget"/>), so a prefill chunk at most doubles an
    /// inter-token gap.
    /// </summary>
    public TimeSpan? StepTimeTarget { get; init; }

    /// <summary>The automatic step-time target in decode-only steps (at least 1); ignored when <see cref="StepTimeTarget"/> is set.</summary>
    public double StepTimeDecodeMultiple { get; init; } = StepTokenBudget.DefaultDecodeStepMultiple;

    /// <summary>
    /// The most an idle engine holds its first step after a request arrives, so that prompts sent together share it
    /// (see <see cref="AdmissionWindow"/>: a tenth of the step's predicted time, at most this); zero: no hold.
    /// </summary>
    public TimeSpan MaxAdmissionWait { get; init; } = AdmissionWindow.DefaultMaximum;

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
    /// <exception cref="ArgumentOutOfRangeException">A non-positive limit or step time target, or a decode-step multiple below 1, or a negative admission wait.</exception>
    public void Validate()
    {
        if (MaxNumBatchedTokens is { } tokens)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens, nameof(MaxNumBatchedTokens));
        }

        if (StepTimeTarget is { } target)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(target, TimeSpan.Zero, nameof(StepTimeTarget));
        }

        if (!(StepTimeDecodeMultiple >= 1) || double.IsInfinity(StepTimeDecodeMultiple))
        {
            throw new ArgumentOutOfRangeException(nameof(StepTimeDecodeMultiple), StepTimeDecodeMultiple, "The multiple of a decode step must be a finite number of at least 1.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAdmissionWait, TimeSpan.Zero, nameof(MaxAdmissionWait));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxNumSequences);
        if (MaxModelLength is { } length)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length, nameof(MaxModelLength));
        }
    }
}
