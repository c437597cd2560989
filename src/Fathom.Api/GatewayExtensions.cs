using Fathom.Api.Gateway;
using Fathom.Api.OpenAi;
using Fathom.Api.Security;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Fathom.Api;

/// <summary>The API service's wiring: YARP over the engine replicas plus keys, limits and the OpenAI parts.</summary>
internal static class GatewayExtensions
{
    public static WebApplicationBuilder AddFathomGateway(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ApiOptions.Section);
        builder.Services.Configure<ApiOptions>(section);
        var options = section.Get<ApiOptions>() ?? new ApiOptions();
        _ = new CacheSalt(Options.Create(options)); // a misspelt PrefixCacheSharing stops the start, not the first request
        if (options.StreamLease < TimeSpan.FromSeconds(1))
        {
            // Renewal runs every lease / 3; a zero lease would fail every stream and PEXPIRE 0 deletes the slot set.
            throw new InvalidOperationException($"Fathom:Api:StreamLease must be at least 00:00:01 (is {options.StreamLease})");
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes);

        builder.Services.AddSingleton<ApiKeys>();
        builder.Services.AddSingleton<GatewayToken>();
        builder.Services.AddSingleton<SharedLimits>();
        builder.Services.AddSingleton<ReplicaLoad>();
        builder.Services.AddSingleton<CacheSalt>();
        builder.Services.AddSingleton<ModelContextLengths>();
        builder.Services.AddSingleton(new TokenWindows(TimeProvider.System));
        builder.Services.AddSingleton<ApiMetrics>();
        builder.Services.AddSingleton<Yarp.ReverseProxy.LoadBalancing.ILoadBalancingPolicy, PrefixAwareLoadBalancingPolicy>();
        builder.Services.AddSingleton<IForwarderHttpClientFactory, GatewayHttpClientFactory>();
        builder.Services.AddHostedService<ReplicaLoadPoller>();
        // One attempt per replica: a slow or failing replica is left out of the list rather than retried, and the
        // default pipeline's circuit breaker (shared by all replicas) would hide the healthy ones behind a dead one.
#pragma warning disable EXTEXP0001 // Evaluation API of Microsoft.Extensions.Http.Resilience; the supported way to opt one client out.
        builder.Services.AddHttpClient<ReplicaModelsClient>(http => http.Timeout = ReplicaModelsClient.Timeout)
            .AddHttpMessageHandler(services => new GatewayTokenHandler(services.GetRequiredService<GatewayToken>()))
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddRateLimiter(limiter => RateLimits.Configure(limiter, options));
        builder.Services.AddReverseProxy()
            .LoadFromMemory(EngineCluster.Routes(), EngineCluster.Clusters(builder.Configuration, options))
            .AddServiceDiscoveryDestinationResolver();
        return builder;
    }

    /// <summary>
    /// The middleware, in order: management port, request id, key, body inspection (size, fields, prefix, charge),
    /// settlement of the token charge when the response ends, limits (shared through Redis, else local).
    /// </summary>
    public static WebApplication UseFathomGateway(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value;
        ApiKeyPolicy.LogDecision(app.Logger, options, app.Environment);
        ManagementPortMiddleware.LogDecision(app.Logger, options, app.Environment);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // A management port the server does not listen on would hide /metrics without a word.
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            if (options.ManagementPort != 0 && !addresses.Any(a => BindingAddress.Parse(a).Port == options.ManagementPort))
            {
                app.Logger.LogWarning("Fathom:Api:ManagementPort {Port} is not among the addresses the server listens on ({Addresses})",
                    options.ManagementPort, string.Join(", ", addresses));
            }
        });

        app.UseMiddleware<ManagementPortMiddleware>();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseMiddleware<RequestInspectionMiddleware>();
        app.UseMiddleware<UsageSettlementMiddleware>();
        app.UseMiddleware<SharedLimitsMiddleware>();
        app.UseRateLimiter();
        app.UseMiddleware<TokenRateLimitMiddleware>();
        return app;
    }

    public static WebApplication MapFathomGateway(this WebApplication app)
    {
        app.MapModelsEndpoint();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<FailoverMiddleware>();
            proxy.UseLoadBalancing();
            proxy.UseMiddleware<ReplicaChoiceMiddleware>();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }
}
