using System.Diagnostics.Metrics;
using Fathom.Engine.KvCache;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.KvCache.Redis;
using Fathom.KvCache.Redis.Tier;
using StackExchange.Redis;

namespace Fathom.EngineService;

/// <summary>The service's Redis store and the tier over the served model (see <see cref="KvTierExtensions"/>).</summary>
internal sealed partial class KvTier(string connectionString, KvCacheOptions options, IMeterFactory meters, ILogger<KvTier> logger) : IAsyncDisposable
{
    private RedisKvBlockStore? _store;

    /// <summary>The tier, once the model is loaded and the store created.</summary>
    public RedisKvBlockTier? Tier { get; private set; }

    /// <summary>
    /// <see cref="ModelHost.ConfigureHost"/>: runs on the model-loading thread. The connection does not wait for
    /// Redis to be up (it reconnects in the background); a store that cannot be created leaves the service without
    /// a tier rather than without a model.
    /// </summary>
    public (IKvBlockTier? Tier, EngineHostOptions Options) Attach(ServedModel model, EngineHostOptions hostOptions)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(hostOptions);
        var configuration = RedisKvBlockStore.CreateConfiguration(connectionString, options);
        string endpoints = string.Join(",", configuration.EndPoints.Select(e => e.ToString()));
        try
        {
            _store = RedisKvBlockStore.ConnectAsync(connectionString, options, meterFactory: meters).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is RedisException or TimeoutException or System.Net.Sockets.SocketException)
        {
            LogUnavailable(logger, endpoints, e);
            return (null, hostOptions);
        }

        var tier = RedisKvBlockTier.For(_store, model.Model);
        Tier = tier;
        LogAttached(logger, endpoints, configuration.Ssl, model.Model.Fingerprint.Value.ToString("x32", System.Globalization.CultureInfo.InvariantCulture));
        var store = _store;
        // The prefill reporter feeds the store's fetch-or-recompute rule with this engine's measured prefill speed.
        return (tier, hostOptions with
        {
            Prefetch = async (request, ct) => await tier.PrefetchAsync(request.PromptTokenIds, request.CacheSalt, ct).ConfigureAwait(false),
            WrapRunner = runner => new KvPrefillRateReporter(runner, store),
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "KV tier: Redis at {Endpoints} (TLS {Tls}), model fingerprint {Fingerprint}")]
    private static partial void LogAttached(ILogger logger, string endpoints, bool tls, string fingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "KV tier: Redis at {Endpoints} is unavailable; serving without it")]
    private static partial void LogUnavailable(ILogger logger, string endpoints, Exception error);
}
