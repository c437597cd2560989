namespace Fathom.Engine.Scheduling;

/// <summary>
/// The per-step token budget that keeps a forward step near a target time, learned from the engine's own steps.
/// It fits step time = <c>overhead + tokens × cost</c> by least squares over recent steps (each older step weighing
/// <see cref="Decay"/> less), and gives the tokens that fit the target. The target is fixed
/// (<see cref="SchedulerConfig.StepTimeTarget"/>) or, by default, <see cref="DefaultDecodeStepMultiple"/> times the
/// predicted time of a step that only decodes the running sequences, but at least <see cref="MinimumAutoTarget"/>: a
/// prefill chunk then lengthens an inter-token gap by at most that factor, on any backend, whatever its speed.
/// </summary>
/// <remarks>
/// The target bounds only the steps that delay a running decode. A step with nothing decoding delays no token (only
/// the first token of prompts that arrive during it, by at most that step), so it gets <see cref="MaximumTokens"/>:
/// prompts that arrive together are prefilled in as few steps as possible, and no cold-start guess is needed before
/// the first step is timed. With decodes running, the budget is never more than the target allows, but always every
/// decode plus one token of prefill, so that a waiting prompt still advances when the decodes alone take longer than
/// a fixed target. Deterministic: it sees only the (tokens, time) pairs given to <see cref="Observe"/>. Not
/// thread-safe.
/// </remarks>
public sealed class StepTokenBudget
{
    /// <summary>Budget with decodes running before any step was timed (the engine always times a step first).</summary>
    public const int InitialTokens = 128;

    /// <summary>Largest budget: the runner's activations grow with the step's tokens.</summary>
    public const int MaximumTokens = 8192;

    /// <summary>
    /// The automatic target: this many times a decode-only step. Two rather than three leaves the ITL
    /// p99 ≤ 3 × p50 a margin for what the model does not predict (noise on a shared machine, the fit's error, the
    /// delivery of the tokens).
    /// </summary>
    public const double DefaultDecodeStepMultiple = 2;

    /// <summary>Weight kept by each older observation per new one (about the last 10 steps count).</summary>
    public const double Decay = 0.9;

    /// <summary>Floor of the automatic target, so that a fast accelerator's steps still amortize their fixed cost.</summary>
    public static readonly TimeSpan MinimumAutoTarget = TimeSpan.FromMilliseconds(50);

    private readonly TimeSpan? _target;
    private readonly double _decodeStepMultiple;
    private double _weight; // Σw
    private double _sumTokens; // Σw·n
    private double _sumSeconds; // Σw·t
    private double _sumTokens2; // Σw·n²
    private double _sumTokensSeconds; // Σw·n·t

    /// <summary>
    /// A budget that aims at <paramref name="target"/> per step, or (null) at <paramref name="decodeStepMultiple"/>
    /// times a decode-only step of the running sequences.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive target, or a multiple below 1.</exception>
    public StepTokenBudget(TimeSpan? target, double decodeStepMultiple = DefaultDecodeStepMultiple)
    {
        if (target is { } t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(t, TimeSpan.Zero, nameof(target));
        }

        if (!(decodeStepMultiple >= 1) || double.IsInfinity(decodeStepMultiple))
        {
            throw new ArgumentOutOfRangeException(nameof(decodeStepMultiple), decodeStepMultiple, "The multiple of a decode step must be a finite number of at least 1.");
        }

        _target = target;
        _decodeStepMultiple = decodeStepMultiple;
    }

    /// <summary>The budget given by the last <see cref="TokensFor"/> call (<see cref="MaximumTokens"/> before one).</summary>
    public int Current { get; private set; } = MaximumTokens;

    /// <summary>The step time the last <see cref="TokensFor"/> call aimed at; null when nothing was decoding or nothing was timed.</summary>
    public TimeSpan? CurrentTarget { get; private set; }

    /// <summary>Steps observed so far.</summary>
    public long Observations { get; private set; }

    /// <summary>Records that a forward step of <paramref name="tokens"/> tokens took <paramref name="elapsed"/>.</summary>
    public void Observe(int tokens, TimeSpan elapsed)
    {
        if (tokens <= 0 || elapsed <= TimeSpan.Zero)
        {
            return;
        }

        double n = tokens;
        double t = elapsed.TotalSeconds;
        _weight = (_weight * Decay) + 1;
        _sumTokens = (_sumTokens * Decay) + n;
        _sumSeconds = (_sumSeconds * Decay) + t;
        _sumTokens2 = (_sumTokens2 * Decay) + (n * n);
        _sumTokensSeconds = (_sumTokensSeconds * Decay) + (n * t);
        Observations++;
    }

    /// <summary>The fitted step model: fixed seconds per step and seconds per token (null before any step was timed).</summary>
    public (double OverheadSeconds, double SecondsPerToken)? Model()
    {
        if (Observations == 0)
        {
            return null;
        }

        double meanTokens = _sumTokens / _weight;
        double meanSeconds = _sumSeconds / _weight;
        double variance = (_sumTokens2 / _weight) - (meanTokens * meanTokens);

        // Steps of (nearly) one size say nothing of the fixed cost: charge it all to the tokens, which overestimates a
        // token's cost and so errs towards shorter steps.
        if (variance > 0.25)
        {
            double slope = ((_sumTokensSeconds / _weight) - (meanTokens * meanSeconds)) / variance;
            double overhead = meanSeconds - (slope * meanTokens);
            if (slope > 0 && overhead >= 0)
            {
                return (overhead, slope);
            }
        }

        return (0, meanSeconds / meanTokens);
    }

    /// <summary>The tokens the next step may carry while <paramref name="decoding"/> sequences decode in it.</summary>
    public int TokensFor(int decoding)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decoding);
        CurrentTarget = null;
        if (decoding == 0)
        {
            return Current = MaximumTokens;
        }

        if (Model() is not var (overhead, perToken))
        {
            return Current = Math.Max(decoding + 1, Math.Min(decoding + InitialTokens, MaximumTokens));
        }

        double target = _target?.TotalSeconds
            ?? Math.Max(MinimumAutoTarget.TotalSeconds, _decodeStepMultiple * (overhead + (perToken * decoding)));
        CurrentTarget = TimeSpan.FromSeconds(target);
        double tokens = ((target - overhead) / perToken) + 1e-6; // 9.999999 tokens of rounding error are 10
        Current = tokens >= MaximumTokens ? Math.Max(MaximumTokens, decoding + 1) : Math.Max(decoding + 1, (int)tokens);
        return Current;
    }
}
