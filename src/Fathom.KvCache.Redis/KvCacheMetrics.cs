using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Fathom.KvCache.Redis;

/// <summary>The store's instruments on the <c>Fathom.KvCache</c> meter, plus totals for <see cref="KvStoreStatistics"/>.</summary>
internal sealed class KvCacheMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _lookups;
    private readonly Counter<long> _hitBlocks;
    private readonly Counter<long> _hitTokens;
    private readonly Counter<long> _bytesRead;
    private readonly Counter<long> _bytesWritten;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _rejected;
    private readonly Histogram<double> _fetchDuration;
    private readonly ConcurrentDictionary<KvRejectReason, long> _rejectedTotals = new();
    private long _lookupCount;
    private long _hitBlockCount;
    private long _hitTokenCount;
    private long _bytesReadCount;
    private long _bytesWrittenCount;
    private long _blocksWrittenCount;
    private long _skippedCount;
    private long _timedOutCount;
    private long _droppedCount;

    public KvCacheMetrics(IMeterFactory? meterFactory, Func<KvCircuitState> circuitState, object owner)
    {
        _ownsMeter = meterFactory is null;
        // A private meter's scope is its store, so a listener can tell stores apart.
        _meter = meterFactory?.Create(KvCacheTelemetry.Name) ?? new Meter(new MeterOptions(KvCacheTelemetry.Name) { Scope = owner });
        _lookups = _meter.CreateCounter<long>("fathom.kvcache.remote.lookups", "{block}", "Blocks asked of the remote tier after a local miss.");
        _hitBlocks = _meter.CreateCounter<long>("fathom.kvcache.remote.hits", "{block}", "Blocks fetched from the remote tier.");
        _hitTokens = _meter.CreateCounter<long>("fathom.kvcache.remote.hit_tokens", "{token}", "Tokens in blocks fetched from the remote tier.");
        _bytesRead = _meter.CreateCounter<long>("fathom.kvcache.remote.read", "By", "Bytes read from the remote tier.");
        _bytesWritten = _meter.CreateCounter<long>("fathom.kvcache.remote.written", "By", "Bytes written to the remote tier.");
        _skipped = _meter.CreateCounter<long>("fathom.kvcache.remote.fetches_skipped", "{fetch}", "Fetches not made (circuit open, or slower than recompute).");
        _dropped = _meter.CreateCounter<long>("fathom.kvcache.remote.dropped_writes", "{block}", "Blocks not written (queue full, circuit open, error).");
        _rejected = _meter.CreateCounter<long>("fathom.kvcache.remote.rejected_entries", "{entry}", "Stored values refused by validation.");
        _fetchDuration = _meter.CreateHistogram<double>(
            "fathom.kvcache.remote.fetch.duration", "s", "Duration of remote fetches.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _meter.CreateObservableGauge(
            "fathom.kvcache.remote.circuit_open", () => circuitState() == KvCircuitState.Open ? 1 : 0, null,
            "1 while the circuit breaker keeps the remote tier out, else 0.");
        _meter.CreateObservableGauge(
            "fathom.kvcache.remote.circuit_state", () => (int)circuitState(), "{state}",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open.");
    }

    public KvStoreStatistics Snapshot() => new()
    {
        Lookups = Interlocked.Read(ref _lookupCount),
        HitBlocks = Interlocked.Read(ref _hitBlockCount),
        HitTokens = Interlocked.Read(ref _hitTokenCount),
        BytesRead = Interlocked.Read(ref _bytesReadCount),
        BytesWritten = Interlocked.Read(ref _bytesWrittenCount),
        BlocksWritten = Interlocked.Read(ref _blocksWrittenCount),
        SkippedFetches = Interlocked.Read(ref _skippedCount),
        TimedOutFetches = Interlocked.Read(ref _timedOutCount),
        DroppedWrites = Interlocked.Read(ref _droppedCount),
        Rejected = new Dictionary<KvRejectReason, long>(_rejectedTotals),
    };

    public void Lookup(string outcome, int blocksAsked, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _lookupCount);
        if (outcome == "timeout")
        {
            Interlocked.Increment(ref _timedOutCount);
        }

        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _lookups.Add(blocksAsked, tag);
        _fetchDuration.Record(elapsed.TotalSeconds, tag);
    }

    public void Hit(int blocks, long tokens)
    {
        Interlocked.Add(ref _hitBlockCount, blocks);
        Interlocked.Add(ref _hitTokenCount, tokens);
        _hitBlocks.Add(blocks);
        _hitTokens.Add(tokens);
    }

    public void Read(long bytes)
    {
        Interlocked.Add(ref _bytesReadCount, bytes);
        _bytesRead.Add(bytes);
    }

    public void Written(int blocks, long bytes)
    {
        Interlocked.Add(ref _blocksWrittenCount, blocks);
        Interlocked.Add(ref _bytesWrittenCount, bytes);
        _bytesWritten.Add(bytes);
    }

    public void Skipped(string reason)
    {
        Interlocked.Increment(ref _skippedCount);
        _skipped.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    public void Dropped(int blocks, string reason)
    {
        Interlocked.Add(ref _droppedCount, blocks);
        _dropped.Add(blocks, new KeyValuePair<string, object?>("reason", reason));
    }

    public void Rejected(KvRejectReason reason)
    {
        _rejectedTotals.AddOrUpdate(reason, 1, (_, n) => n + 1);
        _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
    }

    public void Dispose()
    {
        // A factory's meters are the factory's to dispose.
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
