using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fathom.AppHost;

/// <summary>Builds the <c>kvcache</c> resource the way <see cref="KvCacheSelection"/> decides.</summary>
internal static class KvCacheResourceExtensions
{
    public const string GarnetProjectPath = "../src/Fathom.KvCache.Garnet/Fathom.KvCache.Garnet.csproj";

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
        return mode switch
        {
            KvCacheMode.Container => builder.AddRedisCacheContainer(name),
            KvCacheMode.ConnectionString => new(mode, builder.AddConnectionString(name), null),
            KvCacheMode.RedisServer => builder.AddRedisServer(name, situation.RedisServerPath!),
            KvCacheMode.Garnet => builder.AddGarnetServer(name),
            _ => builder.WarnNoKvCache(situation),
        };
    }

    /// <summary>References the cache and waits for its server, when there is one.</summary>
    public static IResourceBuilder<T> WithKvCache<T>(this IResourceBuilder<T> builder, KvCacheReference? kvcache)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        if (kvcache is null)
        {
            return builder;
        }
        builder.WithReference(kvcache.ConnectionString);
        return kvcache.Server is null ? builder : builder.WaitFor(kvcache.Server);
    }

    private static KvCacheReference AddRedisCacheContainer(this IDistributedApplicationBuilder builder, string name)
    {
        var redis = builder.AddRedis(name)
            // A cache, not a database: evict the least recently used blocks instead of refusing writes.
            .WithArgs(context => AppendToRedisCommand(context, "--maxmemory-policy allkeys-lru"));
        return new(KvCacheMode.Container, redis, redis.AsResource());
    }

    private static KvCacheReference AddRedisServer(this IDistributedApplicationBuilder builder, string name, string path)
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
                // Nothing to keep across runs: no RDB snapshots, no append-only file, LRU eviction.
                context.Args.Add("--save");
                context.Args.Add("");
                context.Args.Add("--appendonly");
                context.Args.Add("no");
                context.Args.Add("--maxmemory-policy");
                context.Args.Add("allkeys-lru");
            })
            .WithHealthCheck(healthCheckKey);
        return new(KvCacheMode.RedisServer, server, server.AsResource());
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
