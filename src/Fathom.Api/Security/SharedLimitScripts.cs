namespace Fathom.Api.Security;

/// <summary>
/// The Lua scripts behind <see cref="SharedLimits"/>. Each runs atomically in Redis, so instances never race between
/// reading a counter and raising it. Time is the server's (<c>TIME</c>): instances' clocks may disagree, Redis's is one.
/// </summary>
internal static class SharedLimitScripts
{
    /// <summary>
    /// Checks all of a request's limits and takes all of them, or none. KEYS: requests counter, tokens counter,
    /// streams sorted set (lease id → expiry in ms). ARGV: requests limit, tokens limit, tokens charged, window ms,
    /// streams limit (0: not a stream), lease ms, lease id. Returns {0, 0, tokens window end in ms (0: none charged)}
    /// when admitted, else {1 requests | 2 tokens | 3 streams, retry-after ms}. Counters are fixed windows that start
    /// with their first request and expire with it.
    /// </summary>
    public const string Acquire = """
        local function used(key)
          return tonumber(redis.call('GET', key) or '0')
        end
        local function retry(key, window)
          local ttl = redis.call('PTTL', key)
          if ttl < 0 then return window end
          return ttl
        end
        local rpm, tpm, cost, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local streams, lease = tonumber(ARGV[5]), tonumber(ARGV[6])
        if rpm > 0 and used(KEYS[1]) + 1 > rpm then return {1, retry(KEYS[1], window)} end
        if tpm > 0 and used(KEYS[2]) + cost > tpm then return {2, retry(KEYS[2], window)} end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        if streams > 0 then
          -- Leases of instances that stopped renewing (crashed, cut off) expire here instead of holding slots forever.
          redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
          if redis.call('ZCARD', KEYS[3]) >= streams then return {3, 1000} end
        end
        local function charge(key, amount)
          redis.call('SET', key, 0, 'PX', window, 'NX')
          redis.call('INCRBY', key, amount)
          -- A counter that lost its expiry (restored, or set by hand) would never reset: give it one.
          if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
        end
        if rpm > 0 then charge(KEYS[1], 1) end
        -- A request that costs no tokens (a model list) must not open a token window, as locally.
        local window_end = 0
        if tpm > 0 and cost > 0 then
          charge(KEYS[2], cost)
          window_end = now + redis.call('PTTL', KEYS[2])
        end
        if streams > 0 then
          redis.call('ZADD', KEYS[3], now + lease, ARGV[7])
          redis.call('PEXPIRE', KEYS[3], lease)
        end
        return {0, 0, window_end}
        """;

    /// <summary>
    /// Settles a token charge: adds ARGV[1] (negative: a refund) to the tokens counter KEYS[1], never below zero, but
    /// only while the window the charge was taken in (ending at ARGV[2] ms) is still the current one: a refund into
    /// the next window would be budget that window never charged. Returns 1 when applied, 0 when the window had passed.
    /// </summary>
    public const string Settle = """
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        if math.abs(now + ttl - tonumber(ARGV[2])) > 5 then return 0 end
        local value = redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
        if value < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
        return 1
        """;

    /// <summary>Extends a live stream's lease. KEYS: streams set. ARGV: lease ms, lease id. Returns 1, or 0 when the lease had already gone.</summary>
    public const string Renew = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
        return renewed
        """;
}
