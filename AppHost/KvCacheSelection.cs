namespace Fathom.AppHost;

/// <summary>What the AppHost knows when it picks the cache: execution context, the switch, and what exists.</summary>
/// <param name="IsPublishMode">True when writing deployment artifacts rather than running.</param>
/// <param name="RequestedMode">The value of <c>Fathom:KvCache:Mode</c> (null or empty means auto).</param>
/// <param name="HasConnectionString">Whether <c>ConnectionStrings:kvcache</c> is configured.</param>
/// <param name="RedisServerPath">The <c>redis-server</c> found on PATH, or null.</param>
/// <param name="GarnetProjectExists">Whether <c>src/Fathom.KvCache.Garnet</c> is in the checkout.</param>
internal sealed record KvCacheSituation(
    bool IsPublishMode,
    string? RequestedMode,
    bool HasConnectionString,
    string? RedisServerPath,
    bool GarnetProjectExists);

/// <summary>The pure decision behind <c>AddKvCache</c>, kept apart so it is testable without starting anything.</summary>
internal static class KvCacheSelection
{
    public const string ConfigurationKey = "Fathom:KvCache:Mode";

    public static KvCacheMode ParseMode(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => KvCacheMode.Auto,
        "connection-string" or "connectionstring" => KvCacheMode.ConnectionString,
        "redis-server" or "redisserver" => KvCacheMode.RedisServer,
        "garnet" => KvCacheMode.Garnet,
        "container" or "redis" => KvCacheMode.Container,
        "none" or "off" => KvCacheMode.None,
        _ => throw new ArgumentException(
            $"{ConfigurationKey} '{text}' is not one of auto, connection-string, redis-server, garnet, container, none"),
    };

    /// <summary>Chooses the cache; a forced mode that cannot work here fails with the reason.</summary>
    public static KvCacheMode Choose(KvCacheSituation situation)
    {
        var requested = ParseMode(situation.RequestedMode);
        return requested == KvCacheMode.Auto ? ChooseAutomatically(situation) : CheckForced(requested, situation);
    }

    private static KvCacheMode ChooseAutomatically(KvCacheSituation situation)
    {
        // A deployment gets a real Redis; locally a container would need a Docker engine, which hangs the run
        // when absent, so run mode never picks one by itself.
        if (situation.IsPublishMode)
        {
            return KvCacheMode.Container;
        }
        if (situation.HasConnectionString)
        {
            return KvCacheMode.ConnectionString;
        }
        if (situation.RedisServerPath is not null)
        {
            return KvCacheMode.RedisServer;
        }
        return situation.GarnetProjectExists ? KvCacheMode.Garnet : KvCacheMode.None;
    }

    private static KvCacheMode CheckForced(KvCacheMode mode, KvCacheSituation situation)
    {
        var problem = mode switch
        {
            // Publishing asks the deployer for it (a secret parameter), e.g. a managed Redis with ssl=true: the TLS option.
            KvCacheMode.ConnectionString when !situation.HasConnectionString && !situation.IsPublishMode =>
                "ConnectionStrings:kvcache is not configured",
            KvCacheMode.RedisServer when situation.IsPublishMode =>
                "a local redis-server cannot be deployed; use container or connection-string",
            KvCacheMode.RedisServer when situation.RedisServerPath is null =>
                "redis-server is not on PATH (Debian: apt-get install redis-server)",
            KvCacheMode.Garnet when !situation.GarnetProjectExists =>
                "src/Fathom.KvCache.Garnet is not in this checkout",
            _ => null,
        };
        return problem is null
            ? mode
            : throw new InvalidOperationException($"{ConfigurationKey}={mode}: {problem}");
    }
}
