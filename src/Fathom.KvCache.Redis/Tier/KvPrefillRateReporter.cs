using System.Diagnostics;
using Fathom.Engine.Scheduling;

namespace Fathom.KvCache.Redis.Tier;

/// <summary>
/// Wraps the engine's model runner and reports the speed of prefill-sized steps to the store, whose skip rule
/// compares a fetch against recomputing (<see cref="RedisKvBlockStore.ReportPrefill"/>).
/// </summary>
/// <param name="inner">The real runner.</param>
/// <param name="store">The store to report to.</param>
/// <param name="minTokens">Steps with fewer tokens (decodes) are not reported: they say nothing about prefill speed.</param>
public sealed class KvPrefillRateReporter(IModelRunner inner, RedisKvBlockStore store, int minTokens = 32) : IModelRunner
{
    private readonly IModelRunner _inner = inner ?? throw new ArgumentNullException(nameof(inner));
    private readonly RedisKvBlockStore _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <inheritdoc/>
    public int VocabSize => _inner.VocabSize;

    /// <inheritdoc/>
    public void Execute(SchedulerOutput batch, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long started = Stopwatch.GetTimestamp();
        _inner.Execute(batch, logits);
        if (batch.NumScheduledTokens >= minTokens)
        {
            _store.ReportPrefill(batch.NumScheduledTokens, Stopwatch.GetElapsedTime(started));
        }
    }
}
