using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fathom.EngineService;

/// <summary>Ready once the model is loaded and its engine is running (gates <c>/health/ready</c>).</summary>
internal sealed class ModelReadyHealthCheck(ModelHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.Engine is not null ? HealthCheckResult.Healthy($"serving {host.Model!.Name}")
            : host.LoadError is { } error ? HealthCheckResult.Unhealthy($"model failed to load: {error}")
            : HealthCheckResult.Unhealthy("model loading"));
}
