namespace Fathom.KvCache.Redis;

/// <summary>Exponentially weighted moving averages of fetch and prefill rates; thread-safe.</summary>
internal sealed class KvRateEstimator(double smoothing, double fetchBytesPerSecond, double fetchOverheadSeconds, double prefillTokensPerSecond)
{
    private readonly Lock _gate = new();
    private double _fetchBytesPerSecond = fetchBytesPerSecond;
    private double _fetchOverheadSeconds = fetchOverheadSeconds;
    private double _prefillTokensPerSecond = prefillTokensPerSecond;

    public KvTransferRates Current
    {
        get
        {
            lock (_gate)
            {
                return new KvTransferRates(_fetchBytesPerSecond, _fetchOverheadSeconds, _prefillTokensPerSecond);
            }
        }
    }

    /// <summary>A probe round trip (no payload) measures the overhead.</summary>
    public void ObserveOverhead(TimeSpan elapsed)
    {
        lock (_gate)
        {
            _fetchOverheadSeconds = Blend(_fetchOverheadSeconds, elapsed.TotalSeconds);
        }
    }

    /// <summary>A payload transfer measures throughput; tiny transfers say little about bandwidth and are ignored.</summary>
    public void ObserveFetch(long bytes, TimeSpan elapsed)
    {
        if (bytes < 64 * 1024 || elapsed <= TimeSpan.Zero)
        {
            return;
        }

        lock (_gate)
        {
            _fetchBytesPerSecond = Blend(_fetchBytesPerSecond, bytes / elapsed.TotalSeconds);
        }
    }

    public void ObservePrefill(int tokens, TimeSpan elapsed)
    {
        if (tokens <= 0 || elapsed <= TimeSpan.Zero)
        {
            return;
        }

        double rate = tokens / elapsed.TotalSeconds;
        lock (_gate)
        {
            _prefillTokensPerSecond = _prefillTokensPerSecond > 0 ? Blend(_prefillTokensPerSecond, rate) : rate;
        }
    }

    private double Blend(double old, double sample) => old + (smoothing * (sample - old));
}
