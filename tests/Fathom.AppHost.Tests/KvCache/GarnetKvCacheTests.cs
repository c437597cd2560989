using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Fathom.AppHost;
using Fathom.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fathom.AppHost.Tests.KvCache;

public sealed class GarnetKvCacheTests
{
    [Fact]
    public async Task The_embedded_Garnet_server_runs_as_the_kvcache_and_answers_PING()
    {
        var ct = TestContext.Current.CancellationToken;
        var project = Path.Combine(RepositoryRoot.Find(), "AppHost", KvCacheResourceExtensions.GarnetProjectPath);
        if (!File.Exists(project))
        {
            Assert.Skip("src/Fathom.KvCache.Garnet is not in this checkout yet");
        }

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(
            ["--Fathom:KvCache:Mode=garnet", "--Fathom:Engine:Replicas=1"], ct);
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        await app.ResourceNotifications.WaitForResourceHealthyAsync("kvcache-garnet", timeout.Token);
        var engine = await app.ResourceNotifications.WaitForResourceHealthyAsync("engine-0", timeout.Token);

        var kvcache = await app.GetConnectionStringAsync("kvcache", ct);
        var ping = await new RespPingHealthCheck(_ => ValueTask.FromResult(kvcache)).CheckHealthAsync(new HealthCheckContext(), ct);
        Assert.Equal(HealthStatus.Healthy, ping.Status);
        Assert.Contains(engine.Snapshot.EnvironmentVariables, e => e.Name == "ConnectionStrings__kvcache" && e.Value == kvcache);
    }
}
