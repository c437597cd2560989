namespace Fathom.Engine.Scheduling;

/// <summary>
/// How long an idle engine holds its first step after a request arrives, so that prompts sent together (a client's
/// parallel requests, users who start at once) are prefilled in one step. Without the hold, the loop wakes on the
/// first arrival and prefills it alone; the prompts that arrive a few milliseconds later then find a sequence
/// decoding, and <see cref="StepTokenBudget"/> lets them in only in chunks that keep its inter-token gap near its
/// target, one prompt after another.
/// </summary>
/// <remarks>
/// The hold is <see cref="PrefillFraction"/> of the predicted time of the step it delays (the fitted step model of
/// <see cref="StepTokenBudget.Model"/> at the queued prompt tokens), and never more than the configured maximum: a lone
/// request's first token comes at most that fraction of its own prefill later, on any backend, whatever its speed.
/// Before any step was timed it is the maximum. It is recomputed as prompts arrive, from the same start.
/// </remarks>
public static class AdmissionWindow
{
    /// <summary>The part of the delayed step's predicted time the engine may hold it for.</summary>
    public const double PrefillFraction = 0.1;

    /// <summary>The default most an idle engine holds its first step (<see cref="SchedulerConfig.MaxAdmissionWait"/>).</summary>
    public static readonly TimeSpan DefaultMaximum = TimeSpan.FromMilliseconds(50);

    /// <summary>How long to hold a step that would prefill <paramref name="queuedTokens"/> prompt tokens.</summary>
    /// <param name="budget">The step model learned so far.</param>
    /// <param name="queuedTokens">Prompt tokens that arrived while the engine was idle.</param>
    /// <param name="maximum">The most to hold; zero turns the hold off.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative token count or maximum.</exception>
    public static TimeSpan For(StepTokenBudget budget, int queuedTokens, TimeSpan maximum)
    {
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentOutOfRangeException.ThrowIfNegative(queuedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximum, TimeSpan.Zero);
        if (maximum == TimeSpan.Zero || queuedTokens == 0)
        {
            return TimeSpan.Zero;
        }

        if (budget.Model() is not var (overhead, perToken))
        {
            return maximum;
        }

        double seconds = PrefillFraction * (overhead + (perToken * queuedTokens));
        return seconds >= maximum.TotalSeconds ? maximum : TimeSpan.FromSeconds(seconds);
    }
}
