using System.Text;

namespace Fathom.KvCache.Redis;

/// <summary>
/// Settings of the Redis KV tier, bound from the <c>Fathom:KvCache</c> configuration section. The connection
/// itself comes from the connection string <c>ConnectionStrings:kvcache</c> (StackExchange.Redis format, e.g.
/// <c>host:6379,ssl=true,password=…</c>).
/// </summary>
public sealed class KvCacheOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Fathom:KvCache";

    /// <summary>The connection string name (Aspire's convention: <c>ConnectionStrings:kvcache</c>).</summary>
    public const string ConnectionStringName = "kvcache";

    /// <summary>Key prefix; the full key is <c>{prefix}:v2:{fingerprintHex}:{blockHashHex}</c>.</summary>
    public string KeyPrefix { get; set; } = "fathom:kv";

    /// <summary>Time to live of every stored value (Redis evicts earlier under <c>maxmemory</c> + <c>allkeys-lru</c>).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Upper bound of one <c>FetchLongestRunAsync</c> call, probe and transfer together.</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Upper bound of one pipelined write batch; a batch that takes longer counts as a failure.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Blocks waiting to be written; when full, new blocks are dropped (counted), never waited for.</summary>
    public int WriteQueueCapacity { get; set; } = 256;

    /// <summary>Blocks sent in one pipelined batch.</summary>
    public int WriteBatchSize { get; set; } = 16;

    /// <summary>Most following blocks looked up in one fetch.</summary>
    public int MaxBlocksPerFetch { get; set; } = 256;

    /// <summary>
    /// Payloads larger than this are stored in chunk keys <c>key:0..n-1</c> of this size, so that no single value
    /// holds the server's event loop for long (4 MiB ≈ 3 ms at 10 Gbit/s). Engines sharing a Redis must agree on it:
    /// a header whose chunk count does not follow from this size is rejected.
    /// </summary>
    public int ChunkBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Shared secret of the engines (UTF-8 text). When set, every value is signed with HMAC-SHA256 (its header
    /// separately, so a forged header is rejected before any payload is read) and unsigned or wrongly signed values
    /// are rejected. Required outside Development (the engine service refuses to start without it).
    /// </summary>
    public string? HmacKey { get; set; }

    /// <summary>Shortest <see cref="HmacKey"/> (UTF-8 bytes) accepted outside Development.</summary>
    public const int MinimumHmacKeyBytes = 32;

    /// <summary>Consecutive failures or timeouts that open the circuit.</summary>
    public int CircuitFailureThreshold { get; set; } = 3;

    /// <summary>How long an open circuit waits before letting one probe through.</summary>
    public TimeSpan CircuitCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Fetch throughput assumed until measured (bytes/s); the store learns it with an EWMA.</summary>
    public double InitialFetchBytesPerSecond { get; set; } = 1e9;

    /// <summary>Fixed cost of one fetch (round trips) assumed until measured.</summary>
    public TimeSpan InitialFetchOverhead { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Prefill throughput of this engine (tokens/s) to compare fetches against; 0 means unknown until the engine
    /// reports measurements (<see cref="RedisKvBlockStore.ReportPrefill"/>), and unknown never skips a fetch.
    /// </summary>
    public double PrefillTokensPerSecond { get; set; }

    /// <summary>
    /// Memory for fetched blocks waiting for their request's admission (<see cref="Tier.RedisKvBlockTier"/>); when
    /// full, the oldest unpromised blocks make room, then further blocks are left to prefill.
    /// </summary>
    public long StagingCapacityBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>How long a fetched block stays staged unused (a request that was never admitted) before it may go.</summary>
    public TimeSpan StagingLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Weight of a new measurement in the rate EWMAs (0..1].</summary>
    public double RateSmoothing { get; set; } = 0.2;

    /// <summary>Whether the configured HMAC key is in use.</summary>
    internal byte[]? HmacKeyBytes => string.IsNullOrEmpty(HmacKey) ? null : Encoding.UTF8.GetBytes(HmacKey);

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        Positive(Ttl, nameof(Ttl));
        Positive(FetchTimeout, nameof(FetchTimeout));
        Positive(WriteTimeout, nameof(WriteTimeout));
        Positive(CircuitCooldown, nameof(CircuitCooldown));
        Positive(StagingLifetime, nameof(StagingLifetime));
        ArgumentOutOfRangeException.ThrowIfNegative(StagingCapacityBytes, nameof(StagingCapacityBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(WriteQueueCapacity, 1, nameof(WriteQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(WriteBatchSize, 1, nameof(WriteBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBlocksPerFetch, 1, nameof(MaxBlocksPerFetch));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytes, 1024, nameof(ChunkBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(CircuitFailureThreshold, 1, nameof(CircuitFailureThreshold));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(InitialFetchBytesPerSecond, nameof(InitialFetchBytesPerSecond));
        ArgumentOutOfRangeException.ThrowIfNegative(PrefillTokensPerSecond, nameof(PrefillTokensPerSecond));
        if (RateSmoothing is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RateSmoothing), RateSmoothing, "Must be in (0, 1].");
        }

        if (string.IsNullOrWhiteSpace(KeyPrefix))
        {
            throw new ArgumentException("KeyPrefix must not be empty.", nameof(KeyPrefix));
        }
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be positive.");
        }
    }
}
