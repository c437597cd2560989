using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fathom.EngineService;

/// <summary>
/// Ready once the model is loaded and its engine is running (gates <c>/health/ready</c>); not ready again while a
/// failed forward step has not been followed by a good one, or while the service drains for shutdown. Pulling and
/// loading are Degraded, not Unhealthy: they are the normal way to start, so they log no error, and
/// <c>/health/ready</c> still answers 503 for them (see ServiceDefaults).
/// </summary>
internal sealed class ModelReadyHealthCheck(ModelHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.Draining ? HealthCheckResult.Unhealthy("draining for shutdown")
            : host.Engine is { IsReady: false } ? HealthCheckResult.Unhealthy("a forward step failed; waiting for one to succeed")
            : host.Engine is not null ? HealthCheckResult.Healthy($"serving {host.Model!.Name}")
            : host.LoadError is { } error ? HealthCheckResult.Unhealthy($"model failed to load: {error}")
            : host.PullStatus is { } pulling ? HealthCheckResult.Degraded(pulling)
            : HealthCheckResult.Degraded("model loading"));
}
