namespace Fathom.KvCache.Redis;

/// <summary>State of the store's circuit breaker (the value of the circuit-state gauge).</summary>
public enum KvCircuitState
{
    /// <summary>Redis is asked.</summary>
    Closed = 0,

    /// <summary>One probe is let through to see whether Redis is back.</summary>
    HalfOpen = 1,

    /// <summary>Redis is not asked until the cooldown ends.</summary>
    Open = 2,
}
