using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fathom.EngineService;

/// <summary>
/// Ready once the model is loaded and its engine is running (gates <c>/health/ready</c>); not ready again while a
/// failed forward step has not been followed by a good one, or while the service drains for shutdown. Pulling,
/// loading and draining are expected states, reported Degraded (503 all the same, see ServiceDefaults, but no error
/// in the log at every probe); a failed load or step is Unhealthy.
/// </summary>
internal sealed class ModelReadyHealthCheck(ModelHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.Draining ? HealthCheckResult.Degraded("draining for shutdown")
            : host.Engine is { IsReady: false } ? HealthCheckResult.Unhealthy("a forward step failed; waiting for one to succeed")
            : host.Engine is not null ? HealthCheckResult.Healthy($"serving {host.Model!.Name}")
            : host.LoadError is { } error ? HealthCheckResult.Unhealthy($"model failed to load: {error}")
            : host.PullStatus is { } pulling ? HealthCheckResult.Degraded(pulling)
            : HealthCheckResult.Degraded("model loading"));
}
