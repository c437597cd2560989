using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Fathom.Engine.KvCache;
using StackExchange.Redis;

namespace Fathom.KvCache.Redis;

/// <summary>
/// The remote KV tier: full prefix blocks written behind to Redis (bounded queue, pipelined batches, TTL) and the
/// longest run of following blocks fetched on admission. Redis can only make requests faster: every call is
/// bounded by a short timeout, a circuit breaker stops asking a dead server, bad values are rejected and counted,
/// and no method throws because of Redis.
/// </summary>
public sealed partial class RedisKvBlockStore : IAsyncDisposable
{
    private const string FormatTag = "v2";
    private readonly IConnectionMultiplexer _redis;
    private readonly bool _ownsConnection;
    private readonly KvCacheOptions _options;
    private readonly byte[]? _hmacKey;
    private readonly TimeProvider _time;
    private readonly KvCircuitBreaker _circuit;
    private readonly KvRateEstimator _rates;
    private readonly KvCacheMetrics _metrics;
    private readonly Channel<PendingWrite> _queue;
    private readonly Task _writer;
    private long _pendingWrites;

    /// <summary>Creates a store over an existing connection (which should use <see cref="BacklogPolicy.FailFast"/>).</summary>
    /// <param name="redis">The connection; not disposed by the store.</param>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="time">Clock for timeouts and the circuit breaker.</param>
    /// <param name="meterFactory">Creates the <c>Fathom.KvCache</c> meter (DI); when null, a private meter whose scope is this store.</param>
    public RedisKvBlockStore(IConnectionMultiplexer redis, KvCacheOptions options, TimeProvider? time = null, IMeterFactory? meterFactory = null)
        : this(redis, ownsConnection: false, options, time, meterFactory)
    {
    }

    private RedisKvBlockStore(IConnectionMultiplexer redis, bool ownsConnection, KvCacheOptions options, TimeProvider? time, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _redis = redis;
        _ownsConnection = ownsConnection;
        _options = options;
        _hmacKey = options.HmacKeyBytes;
        _time = time ?? TimeProvider.System;
        _circuit = new KvCircuitBreaker(options.CircuitFailureThreshold, options.CircuitCooldown, _time);
        _rates = new KvRateEstimator(
            options.RateSmoothing, options.InitialFetchBytesPerSecond, options.InitialFetchOverhead.TotalSeconds, options.PrefillTokensPerSecond);
        _metrics = new KvCacheMetrics(meterFactory, () => _circuit.State, this);
        _queue = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(options.WriteQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting: the drop is ours to count.
        });
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>
    /// Connects to Redis with settings that never hold a caller up (no abort on connect failure, commands fail
    /// fast while disconnected instead of queueing) and creates a store that owns the connection.
    /// </summary>
    /// <param name="connectionString">StackExchange.Redis format: <c>host:port[,ssl=true][,password=…]</c>.</param>
    /// <param name="options">Settings.</param>
    /// <param name="time">Clock for timeouts and the circuit breaker.</param>
    /// <param name="meterFactory">Creates the <c>Fathom.KvCache</c> meter.</param>
    public static async Task<RedisKvBlockStore> ConnectAsync(
        string connectionString, KvCacheOptions options, TimeProvider? time = null, IMeterFactory? meterFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(options);
        var configuration = CreateConfiguration(connectionString, options);
        var redis = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        return new RedisKvBlockStore(redis, ownsConnection: true, options, time, meterFactory);
    }

    /// <summary>The client settings <see cref="ConnectAsync"/> uses: the connection string plus fail-fast behaviour.</summary>
    /// <param name="connectionString">StackExchange.Redis format.</param>
    /// <param name="options">Settings (timeouts).</param>
    public static ConfigurationOptions CreateConfiguration(string connectionString, KvCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configuration = ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ConnectTimeout = 2000;
        configuration.ConnectRetry = 1;
        configuration.AsyncTimeout = Math.Max(1000, (int)options.WriteTimeout.TotalMilliseconds);
        configuration.ClientName ??= "fathom-kvcache";
        return configuration;
    }

    /// <summary>The validated settings.</summary>
    public KvCacheOptions Options => _options;

    /// <summary>The circuit breaker's state.</summary>
    public KvCircuitState CircuitState => _circuit.State;

    /// <summary>Totals since creation.</summary>
    public KvStoreStatistics Statistics => _metrics.Snapshot();

    /// <summary>The current (learned) rate estimates the skip rule uses.</summary>
    public KvTransferRates Rates => _rates.Current;

    /// <summary>Blocks enqueued and not yet written or dropped.</summary>
    public long PendingWrites => Interlocked.Read(ref _pendingWrites);

    /// <summary>
    /// The Redis key of a block: <c>{prefix}:v2:{fingerprintHex}:{blockHashHex}</c> (the 64-digit SHA-256 block
    /// hash, which already carries the request's cache salt); chunks append <c>:{i}</c>.
    /// </summary>
    /// <param name="fingerprint">The model.</param>
    /// <param name="blockHash">The block.</param>
    public string KeyFor(KvModelFingerprint fingerprint, BlockHash blockHash) =>
        $"{_options.KeyPrefix}:{FormatTag}:{fingerprint.Hex}:{blockHash}";

    /// <summary>The engine's measured prefill speed; feeds the skip rule's EWMA.</summary>
    /// <param name="tokens">Tokens prefilled.</param>
    /// <param name="elapsed">Time they took.</param>
    public void ReportPrefill(int tokens, TimeSpan elapsed) => _rates.ObservePrefill(tokens, elapsed);

    /// <summary>
    /// Queues a full block to be written behind. Never blocks: returns false (and counts a dropped write) when the
    /// queue is full or the store is closing.
    /// </summary>
    /// <param name="fingerprint">The model.</param>
    /// <param name="block">The block; its payload is read later, on the writer's thread.</param>
    public bool TryEnqueue(KvModelFingerprint fingerprint, KvBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        Interlocked.Increment(ref _pendingWrites);
        if (_queue.Writer.TryWrite(new PendingWrite(fingerprint, block)))
        {
            return true;
        }

        Interlocked.Decrement(ref _pendingWrites);
        _metrics.Dropped(1, "queue_full");
        return false;
    }

    /// <summary>Waits until every queued block has been written or dropped (tests, orderly shutdown).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (Interlocked.Read(ref _pendingWrites) > 0)
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _writer.WaitAsync(_options.WriteTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Shutdown is not held up by a slow Redis; unwritten blocks are lost, which a cache may do.
        }

        _metrics.Dispose();
        if (_ownsConnection)
        {
            await _redis.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private readonly record struct PendingWrite(KvModelFingerprint Fingerprint, KvBlock Block);

    private static bool IsRedisFailure(Exception ex) =>
        ex is RedisException or TimeoutException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException;

    private static Activity? StartActivity(string name) => KvCacheTelemetry.ActivitySource.StartActivity(name, ActivityKind.Client);
}
