using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Service defaults shared by every Fathom service: OpenTelemetry, health checks, service discovery and
/// HTTP resilience, in the shape of the Aspire template.
/// </summary>
public static class Extensions
{
    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";
    private const string MetricsEndpointPath = "/metrics";
    private const string ReadinessEndpointPath = "/health/ready";

    /// <summary>Tag for checks that gate <c>/health/ready</c> only (e.g. the engine's model-loaded check).</summary>
    public const string ReadyTag = "ready";

    // The category under which the health-check service logs each check's result (every probe).
    private const string HealthCheckLogCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    /// <summary>Tag for checks that <c>/alive</c> runs: the process can make progress at all.</summary>
    public const string LiveTag = "live";

    /// <summary>Names of the meters and activity sources the Fathom services emit.</summary>
    public static readonly IReadOnlyList<string> FathomTelemetrySources =
        ["Fathom.Engine", "Fathom.EngineService", "Fathom.Api", "Fathom.KvCache", "Fathom.Connector"];

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter([.. FathomTelemetrySources])
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource([.. FathomTelemetrySources])
                // Probes and scrapes, answered and sent (the API probes its engines' /health/ready and reads their
                // /metrics every second or two), would drown the traces that matter; they stay counted as metrics.
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbeOrScrape(context.Request.Path))
                .AddHttpClientInstrumentation(options => options.FilterHttpRequestMessage = request =>
                    request.RequestUri is not { IsAbsoluteUri: true } uri || !IsProbeOrScrape(new PathString(uri.AbsolutePath)))
                // Redis calls of the KV tier: traced for any IConnectionMultiplexer registered in DI.
                .AddRedisInstrumentation());

        builder.AddOpenTelemetryExporters();
        return builder;
    }

    /// <summary>True for the health, liveness and Prometheus endpoints, which are left out of traces.</summary>
    public static bool IsProbeOrScrape(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath)
        || path.StartsWithSegments(AlivenessEndpointPath)
        || path.StartsWithSegments(MetricsEndpointPath);

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>
    /// Adds the <c>self</c> liveness check. A check reports <see cref="HealthStatus.Degraded"/> for a state that is
    /// expected but not ready (a model loading, a drain for shutdown): <c>/health</c> and <c>/health/ready</c> answer
    /// it 503 like <see cref="HealthStatus.Unhealthy"/>, but it is not logged as an error (the health-check service
    /// logs Degraded at Warning, which is left out below; Unhealthy, a real failure, stays an Error).
    /// </summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddFilter(HealthCheckLogCategory, LogLevel.Error);
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (all checks), <c>/health/ready</c> (checks tagged <see cref="LiveTag"/> or
    /// <see cref="ReadyTag"/>: traffic may come), <c>/alive</c> (<see cref="LiveTag"/> only: do not restart me) and
    /// <c>/metrics</c> (Prometheus), each tagged with <see cref="DefaultEndpointMetadata"/>.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResultStatusCodes = NotReadyWhenDegraded() })
            .WithMetadata(DefaultEndpointMetadata.Details);
        app.MapHealthChecks(ReadinessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag) || r.Tags.Contains(ReadyTag),
            ResultStatusCodes = NotReadyWhenDegraded(),
        }).WithMetadata(DefaultEndpointMetadata.Probe);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) })
            .WithMetadata(DefaultEndpointMetadata.Probe);
        app.MapPrometheusScrapingEndpoint(MetricsEndpointPath).WithMetadata(DefaultEndpointMetadata.Details);
        return app;
    }

    // Degraded is "not ready yet, nothing wrong" (see AddDefaultHealthChecks): no traffic, as for Unhealthy.
    private static Dictionary<HealthStatus, int> NotReadyWhenDegraded() => new()
    {
        [HealthStatus.Healthy] = StatusCodes.Status200OK,
        [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
        [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
    };
}
