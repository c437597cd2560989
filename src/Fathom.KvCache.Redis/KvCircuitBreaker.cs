namespace Fathom.KvCache.Redis;

/// <summary>
/// Closed → open after K consecutive failures → half-open (one probe) after a cooldown → closed on the probe's
/// success, open again on its failure. Thread-safe.
/// </summary>
internal sealed class KvCircuitBreaker(int failureThreshold, TimeSpan cooldown, TimeProvider time)
{
    private readonly Lock _gate = new();
    private KvCircuitState _state = KvCircuitState.Closed;
    private int _failures;
    private long _openedAt;

    public KvCircuitState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Whether a call may go to Redis now; in half-open state only the first caller gets to probe.</summary>
    public bool TryAcquire()
    {
        lock (_gate)
        {
            switch (_state)
            {
                case KvCircuitState.Closed:
                    return true;
                case KvCircuitState.Open when time.GetElapsedTime(_openedAt) >= cooldown:
                    _state = KvCircuitState.HalfOpen;
                    return true;
                default:
                    return false;
            }
        }
    }

    public void RecordSuccess()
    {
        lock (_gate)
        {
            _failures = 0;
            _state = KvCircuitState.Closed;
        }
    }

    /// <summary>A probe ended without a verdict (the caller cancelled): let the next caller probe instead.</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            if (_state == KvCircuitState.HalfOpen)
            {
                _state = KvCircuitState.Open;
            }
        }
    }

    public void RecordFailure()
    {
        lock (_gate)
        {
            _failures++;
            if (_state == KvCircuitState.HalfOpen || _failures >= failureThreshold)
            {
                _state = KvCircuitState.Open;
                _openedAt = time.GetTimestamp();
            }
        }
    }
}
