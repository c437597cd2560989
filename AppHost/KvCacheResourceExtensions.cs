using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fathom.AppHost;

/// <summary>Builds the <c>kvcache</c> resource the way <see cref="KvCacheSelection"/> decides.</summary>
internal static class KvCacheResourceExtensions
{
    public const string GarnetProjectPath = "../src/Fathom.KvCache.Garnet/Fathom.KvCache.Garnet.csproj";

    /// <summary>The memory cap of a Redis the AppHost starts (<c>--maxmemory</c>); beyond it, least recently used blocks go.</summary>
    public const string MaxMemoryConfigurationKey = "Fathom:KvCache:MaxMemory";

    public const string DefaultMaxMemory = "2gb";

    /// <summary>The cap of the rate-limit store: counters are a few bytes per API key and window.</summary>
    public const string LimitsMaxMemory = "256mb";

    /// <summary>The name of the rate-limit store the API uses when the AppHost runs the cache server itself.</summary>
    public const string LimitsName = "limits";

    /// <summary>The engines' HMAC key parameter is <c>{name}-hmac-key</c>.</summary>
    public const string HmacKeySuffix = "-hmac-key";

    /// <summary>Adds the cache; null when no cache runs (run mode with nothing available, or mode none).</summary>
    public static KvCacheReference? AddKvCache(this IDistributedApplicationBuilder builder, string name)
    {
        var situation = new KvCacheSituation(
            builder.ExecutionContext.IsPublishMode,
            builder.Configuration[KvCacheSelection.ConfigurationKey],
            !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(name)),
            FindOnPath("redis-server"),
            File.Exists(Path.Combine(builder.AppHostDirectory, GarnetProjectPath)));

        var mode = KvCacheSelection.Choose(situation);
        var maxMemory = builder.Configuration[MaxMemoryConfigurationKey] is { Length: > 0 } configured ? configured : DefaultMaxMemory;
        var kvcache = mode switch
        {
            KvCacheMode.Container => builder.AddRedisCacheContainer(name),
            KvCacheMode.ConnectionString => new(mode, builder.AddConnectionString(name), null),
            KvCacheMode.RedisServer => builder.AddRedisServers(name, situation.RedisServerPath!, maxMemory),
            KvCacheMode.Garnet => builder.AddGarnetServer(name),
            _ => builder.WarnNoKvCache(situation),
        };

        // Generated and kept in user secrets in run mode; a deployment generates it once and passes it to every engine.
        return kvcache is null ? null : kvcache with
        {
            HmacKey = builder.AddParameter(name + HmacKeySuffix, new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true),
        };
    }

    /// <summary>References the cache, gives the engines' HMAC key, and waits for the server, when there is one.</summary>
    public static IResourceBuilder<T> WithKvCache<T>(this IResourceBuilder<T> builder, KvCacheReference? kvcache)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        if (kvcache is null)
        {
            return builder;
        }
        builder.WithReference(kvcache.ConnectionString);
        if (kvcache.HmacKey is not null)
        {
            builder.WithEnvironment("Fathom__KvCache__HmacKey", kvcache.HmacKey);
        }
        return kvcache.Server is null ? builder : builder.WaitFor(kvcache.Server);
    }

    /// <summary>
    /// Gives the API the store for its shared rate limits: the separate non-evicting one when the AppHost runs the
    /// servers, else the cache's connection (docs/security.md says what that means for eviction).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSharedLimits(this IResourceBuilder<ProjectResource> api, KvCacheReference? kvcache)
    {
        if (kvcache?.Limits is not { } limits)
        {
            return api.WithKvCacheConnectionOnly(kvcache);
        }
        api.WithReference(limits).WithEnvironment("Fathom__Api__SharedLimitsConnectionName", LimitsName);
        return kvcache.LimitsServer is null ? api : api.WaitFor(kvcache.LimitsServer);
    }

    private static IResourceBuilder<ProjectResource> WithKvCacheConnectionOnly(this IResourceBuilder<ProjectResource> api, KvCacheReference? kvcache)
    {
        if (kvcache is null)
        {
            return api;
        }
        api.WithReference(kvcache.ConnectionString);
        return kvcache.Server is null ? api : api.WaitFor(kvcache.Server);
    }

    private static KvCacheReference AddRedisCacheContainer(this IDistributedApplicationBuilder builder, string name)
    {
        // AddRedis gives each a generated password ({name}-password) in the connection string.
        // A cache, not a database: under maxmemory, evict the least recently used blocks instead of refusing writes.
        var maxMemory = builder.AddParameter(
            $"{name}-maxmemory", builder.Configuration[$"Parameters:{name}-maxmemory"] ?? builder.Configuration[MaxMemoryConfigurationKey] ?? DefaultMaxMemory,
            publishValueAsDefault: true);
        var redis = builder.AddRedis(name)
            .WithEnvironment("REDIS_MAXMEMORY", maxMemory)
            .WithArgs(context => AppendToRedisCommand(context, "--maxmemory $REDIS_MAXMEMORY --maxmemory-policy allkeys-lru"));
        // The API's rate-limit counters: never evicted (a full store refuses writes, and the API falls back to its local limits).
        var limits = builder.AddRedis(LimitsName)
            .WithArgs(context => AppendToRedisCommand(context, $"--maxmemory {LimitsMaxMemory} --maxmemory-policy noeviction"));
        return new(KvCacheMode.Container, redis, redis.AsResource()) { Limits = limits, LimitsServer = limits.AsResource() };
    }

    private static KvCacheReference AddRedisServers(this IDistributedApplicationBuilder builder, string name, string path, string maxMemory)
    {
        var kvcache = builder.AddRedisServer(name, path, maxMemory, "allkeys-lru");
        var limits = builder.AddRedisServer(LimitsName, path, LimitsMaxMemory, "noeviction");
        return new(KvCacheMode.RedisServer, kvcache, kvcache.AsResource()) { Limits = limits, LimitsServer = limits.AsResource() };
    }

    private static IResourceBuilder<RedisServerResource> AddRedisServer(
        this IDistributedApplicationBuilder builder, string name, string path, string maxMemory, string policy)
    {
        var resource = new RedisServerResource(name, path, builder.AppHostDirectory);
        var healthCheckKey = $"{name}-ping";
        builder.Services.AddHealthChecks().Add(new(healthCheckKey,
            _ => new RespPingHealthCheck(((IResourceWithConnectionString)resource).GetConnectionStringAsync), failureStatus: null, tags: null));

        var server = builder.AddResource(resource)
            .WithEndpoint(name: RedisServerResource.EndpointName, scheme: "tcp")
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(resource.Endpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                // Nothing to keep across runs: no RDB snapshots, no append-only file; a memory cap and its policy.
                context.Args.Add("--save");
                context.Args.Add("");
                context.Args.Add("--appendonly");
                context.Args.Add("no");
                context.Args.Add("--maxmemory");
                context.Args.Add(maxMemory);
                context.Args.Add("--maxmemory-policy");
                context.Args.Add(policy);
            })
            .WithHealthCheck(healthCheckKey);
        return server;
    }

    private static KvCacheReference AddGarnetServer(this IDistributedApplicationBuilder builder, string name)
    {
        const string endpointName = "tcp";
        var garnet = builder.AddProject($"{name}-garnet", Path.Combine(builder.AppHostDirectory, GarnetProjectPath), launchProfileName: null)
            .WithEndpoint(name: endpointName, scheme: "tcp");
        var endpoint = garnet.GetEndpoint(endpointName);
        garnet.WithArgs(context =>
        {
            context.Args.Add("--port");
            context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
            context.Args.Add("--bind");
            context.Args.Add("127.0.0.1");
        });

        var connectionString = builder.AddConnectionString(name, ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.HostAndPort)}"));
        var healthCheckKey = $"{name}-ping";
        builder.Services.AddHealthChecks().Add(new(healthCheckKey,
            _ => new RespPingHealthCheck(((IResourceWithConnectionString)connectionString.Resource).GetConnectionStringAsync), failureStatus: null, tags: null));
        garnet.WithHealthCheck(healthCheckKey);
        return new(KvCacheMode.Garnet, connectionString, garnet.AsResource());
    }

    private static KvCacheReference? WarnNoKvCache(this IDistributedApplicationBuilder builder, KvCacheSituation situation)
    {
        if (ParseIsNone(situation))
        {
            return null;
        }
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Fathom.AppHost").LogWarning(
                "No kvcache: ConnectionStrings:kvcache is not set, redis-server is not on PATH and src/Fathom.KvCache.Garnet is absent. "
                + "The engines run with their local prefix cache only.");
            return Task.CompletedTask;
        });
        return null;
    }

    private static bool ParseIsNone(KvCacheSituation situation) =>
        KvCacheSelection.ParseMode(situation.RequestedMode) == KvCacheMode.None;

    // AddRedis starts the server through a shell command line; a flag only takes effect inside that line.
    private static void AppendToRedisCommand(CommandLineArgsCallbackContext context, string flags)
    {
        for (var i = 0; i < context.Args.Count; i++)
        {
            if (context.Args[i] is string arg && arg.StartsWith("redis-server", StringComparison.Ordinal))
            {
                context.Args[i] = $"{arg} {flags}";
                return;
            }
        }
        foreach (var flag in flags.Split(' '))
        {
            context.Args.Add(flag);
        }
    }

    private static IResourceBuilder<IResource> AsResource<T>(this IResourceBuilder<T> builder) where T : IResource =>
        builder.ApplicationBuilder.CreateResourceBuilder<IResource>(builder.Resource);

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
}
