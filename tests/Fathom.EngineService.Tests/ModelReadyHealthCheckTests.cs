using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;

namespace Fathom.EngineService.Tests;

/// <summary>Loading and draining are expected states: Degraded (not ready, no error logged); a failed load is Unhealthy.</summary>
public sealed class ModelReadyHealthCheckTests
{
    private static async Task<HealthCheckResult> CheckAsync(Action<ModelHost>? arrange = null)
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var host = new ModelHost(Options.Create(new EngineServiceOptions()), services.GetRequiredService<IMeterFactory>(), NullLogger<ModelHost>.Instance);
        arrange?.Invoke(host);
        return await new ModelReadyHealthCheck(host).CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_model_still_loading_is_degraded()
    {
        var result = await CheckAsync();

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Equal("model loading", result.Description);
    }

    [Fact]
    public async Task A_drain_is_degraded() =>
        Assert.Equal(HealthStatus.Degraded, (await CheckAsync(host => host.Draining = true)).Status);
}
