using System.Diagnostics.Metrics;
using Fathom.KvCache.Redis;

namespace Fathom.EngineService;

/// <summary>
/// Wires the Redis KV tier into the engine service when the connection string <c>ConnectionStrings:kvcache</c>
/// (Aspire's convention; StackExchange.Redis format, <c>ssl=true</c> and <c>password=…</c> supported) is set.
/// Settings come from the <c>Fathom:KvCache</c> section (docs/redis-tier.md). Without it the service runs with the
/// local prefix cache only. Outside Development the tier needs <c>Fathom:KvCache:HmacKey</c> (docs/security.md):
/// without it anyone who can write to the Redis could feed the engine forged K/V, so the service refuses to start.
/// </summary>
internal static class KvTierExtensions
{
    /// <summary>Adds the tier: connects after the model is loaded and prefetches each request's prefix before it is queued.</summary>
    /// <exception cref="ArgumentException">The connection string or a <c>Fathom:KvCache</c> setting is invalid.</exception>
    public static WebApplicationBuilder AddFathomKvTier(this WebApplicationBuilder builder)
    {
        string? connectionString = KvCacheConfiguration.ReadConnectionString(builder.Configuration);
        if (connectionString is null)
        {
            return builder;
        }

        var options = KvCacheConfiguration.ReadOptions(builder.Configuration);
        if (!builder.Environment.IsDevelopment() && KvCacheConfiguration.HmacKeyProblem(options) is { } problem)
        {
            // One line and a failing exit code, not a stack trace: this is a deployment mistake, not a bug.
            Console.Error.WriteLine($"fathom engine: refusing to start: {problem}");
            Environment.Exit(2);
        }

        _ = RedisKvBlockStore.CreateConfiguration(connectionString, options); // a malformed string fails at startup, not per request
        builder.Services.AddSingleton(sp => new KvTier(
            connectionString, options, sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<ILogger<KvTier>>()));

        // Replaces AddFathomEngine's registration (the last one wins): the same host, with the tier's hook set.
        builder.Services.AddSingleton(sp =>
        {
            var host = ActivatorUtilities.CreateInstance<ModelHost>(sp);
            host.ConfigureHost = sp.GetRequiredService<KvTier>().Attach;
            return host;
        });
        return builder;
    }
}
