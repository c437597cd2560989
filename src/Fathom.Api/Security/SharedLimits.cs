using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Fathom.Api.Security;

/// <summary>
/// Per-key limits shared by every API instance through Redis (the connection string <c>ConnectionStrings:kvcache</c>,
/// or the one named by <see cref="ApiOptions.SharedLimitsConnectionName"/>). One Lua script checks and takes a
/// request's permits atomically (<see cref="SharedLimitScripts"/>). While Redis cannot be reached the caller falls
/// back to this instance's own limiters: a limit that is briefly per instance beats refusing every request.
/// </summary>
internal sealed class SharedLimits : IAsyncDisposable
{
    private readonly ApiOptions _options;
    private readonly ILogger<SharedLimits> _logger;
    private readonly Task<ConnectionMultiplexer?> _connecting;
    private int _degraded;

    public SharedLimits(IOptions<ApiOptions> options, IConfiguration configuration, ILogger<SharedLimits> logger)
    {
        _options = options.Value;
        _logger = logger;
        string? connectionString = configuration.GetConnectionString(_options.SharedLimitsConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            _connecting = Task.FromResult<ConnectionMultiplexer?>(null);
            return;
        }

        var redis = ConfigurationOptions.Parse(connectionString);
        // A down Redis must not hold requests: connect in the background, keep retrying, and time out fast.
        redis.AbortOnConnectFail = false;
        redis.ConnectTimeout = 2000;
        redis.AsyncTimeout = 1000;
        redis.SyncTimeout = 1000;
        redis.ClientName ??= "fathom-api";
        Configured = true;
        _connecting = ConnectAsync(redis);
    }

    /// <summary>True when a connection string is configured (limits are meant to be shared).</summary>
    public bool Configured { get; }

    /// <summary>
    /// Takes a request's permits: one request, <paramref name="tokens"/> tokens (capped at the limit, so one large
    /// request can still pass in an empty window) and, for a stream, a stream slot.
    /// Null when Redis is unavailable (the caller applies the local limits instead).
    /// </summary>
    public async Task<SharedDecision?> TryAcquireAsync(string key, int tokens, bool stream, CancellationToken cancellationToken)
    {
        if (Connection() is not { } redis)
        {
            return null;
        }

        string leaseId = Guid.NewGuid().ToString("N");
        int streams = stream ? _options.ConcurrentStreams : 0;
        int tokenLimit = _options.TokensPerMinute;
        try
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(SharedLimitScripts.Acquire,
                [RequestsKey(key), TokensKey(key), StreamsKey(key)],
                [
                    _options.RequestsPerMinute, tokenLimit, tokenLimit > 0 ? Math.Clamp(tokens, 0, tokenLimit) : 0,
                    (long)_options.RateWindow.TotalMilliseconds, streams, (long)_options.StreamLease.TotalMilliseconds, leaseId,
                ]).WaitAsync(cancellationToken))!;
            Recovered();
            var limit = (SharedLimit)(int)result[0];
            var retryAfter = TimeSpan.FromMilliseconds((long)result[1]);
            if (limit != SharedLimit.None)
            {
                return new SharedDecision(limit, retryAfter, null);
            }

            int charged = tokenLimit > 0 ? Math.Clamp(tokens, 0, tokenLimit) : 0;
            long windowEnd = result.Length > 2 ? (long)result[2] : 0;
            return new SharedDecision(SharedLimit.None, TimeSpan.Zero, streams > 0 ? new StreamLease(this, key, leaseId) : null)
            {
                Charge = windowEnd > 0 ? new TokenCharge(charged, delta => SettleAsync(key, delta, windowEnd)) : null,
            };
        }
        catch (OperationCanceledException) when (streams > 0)
        {
            // The script may still have run and taken a slot that no lease would renew or release.
            Release(key, leaseId);
            throw;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Degraded(e);
            return null;
        }
    }

    /// <summary>Closes the Redis connection, if one was made.</summary>
    public async ValueTask DisposeAsync()
    {
        if (await _connecting is { } redis)
        {
            await redis.DisposeAsync();
        }
    }

    /// <summary>Renews a stream's lease; false when Redis did not answer (the lease then lapses on its own).</summary>
    internal async Task<bool> RenewAsync(string key, string leaseId)
    {
        if (Connection() is not { } redis)
        {
            return false;
        }

        try
        {
            var renewed = await redis.GetDatabase().ScriptEvaluateAsync(SharedLimitScripts.Renew, [StreamsKey(key)],
                [(long)_options.StreamLease.TotalMilliseconds, leaseId]);
            if ((int)renewed == 0)
            {
                // Not re-added: the slot may have gone to another stream meanwhile, and the limit must not overshoot.
                _logger.LogWarning("A stream's shared-limit lease lapsed (Redis was unreachable for longer than the lease); the stream runs on uncounted");
            }

            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Degraded(e);
            return false;
        }
    }

    /// <summary>Moves a token charge by <paramref name="delta"/> within the window ending at <paramref name="windowEnd"/> ms (Redis time).</summary>
    internal async Task SettleAsync(string key, int delta, long windowEnd)
    {
        if (Connection() is not { } redis)
        {
            return;
        }

        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(SharedLimitScripts.Settle, [TokensKey(key)], [delta, windowEnd]);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The charge stays as taken: at worst the key waits for the window it paid in full.
            Degraded(e);
        }
    }

    /// <summary>Frees a stream's slot; on failure the lease expires by itself within <see cref="ApiOptions.StreamLease"/>.</summary>
    internal void Release(string key, string leaseId)
    {
        if (Connection() is { } redis)
        {
            _ = redis.GetDatabase().SortedSetRemoveAsync(StreamsKey(key), leaseId, CommandFlags.FireAndForget);
        }
    }

    internal TimeSpan RenewEvery => _options.StreamLease / 3;

    // Key ids go inside {…}: a Redis Cluster keeps one key's counters in one slot, as a multi-key script needs.
    private static RedisKey RequestsKey(string key) => $"fathom:api:limits:{{{key}}}:requests";

    private static RedisKey TokensKey(string key) => $"fathom:api:limits:{{{key}}}:tokens";

    private static RedisKey StreamsKey(string key) => $"fathom:api:limits:{{{key}}}:streams";

    private ConnectionMultiplexer? Connection()
    {
        if (!_connecting.IsCompletedSuccessfully || _connecting.Result is not { } redis)
        {
            if (Configured && _connecting.IsCompleted)
            {
                Degraded(null);
            }

            return null;
        }

        if (!redis.IsConnected)
        {
            Degraded(null);
            return null;
        }

        return redis;
    }

    private async Task<ConnectionMultiplexer?> ConnectAsync(ConfigurationOptions redis)
    {
        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(redis);
            connection.ConnectionFailed += (_, e) => Degraded(e.Exception);
            if (!connection.IsConnected)
            {
                Degraded(null);
            }

            return connection;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ArgumentException)
        {
            Degraded(e);
            return null;
        }
    }

    // Once per outage, not once per request: a down Redis must not flood the log.
    private void Degraded(Exception? e)
    {
        if (Interlocked.Exchange(ref _degraded, 1) == 0)
        {
            _logger.LogWarning(e, "Redis for the shared per-key limits is unreachable; each API instance applies its own limits until it is back");
        }
    }

    private void Recovered()
    {
        if (Interlocked.Exchange(ref _degraded, 0) == 1)
        {
            _logger.LogInformation("Redis for the shared per-key limits is back; limits are shared again");
        }
    }
}

/// <summary>Which shared limit refused a request.</summary>
internal enum SharedLimit
{
    None = 0,
    Requests = 1,
    Tokens = 2,
    Streams = 3,
}

/// <summary>The outcome of <see cref="SharedLimits.TryAcquireAsync"/>: refused by <paramref name="Limit"/>, or admitted with an optional stream lease.</summary>
internal sealed record SharedDecision(SharedLimit Limit, TimeSpan RetryAfter, StreamLease? Lease)
{
    /// <summary>The tokens taken, to settle when the response ends; null when none were charged.</summary>
    public TokenCharge? Charge { get; init; }
}
