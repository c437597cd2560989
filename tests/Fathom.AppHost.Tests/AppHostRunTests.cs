using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Fathom.AppHost;
using Fathom.AppHost.Tests.KvCache;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fathom.AppHost.Tests;

public sealed class AppHostRunTests
{
    [Fact]
    public async Task Redis_server_two_engine_replicas_and_the_api_start_healthy_and_the_api_gets_both_replicas()
    {
        var ct = TestContext.Current.CancellationToken;
        RedisServerOnPath.Find();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(
            ["--Fathom:KvCache:Mode=redis-server", "--Fathom:Engine:Replicas=2"], ct);
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(4));
        await app.ResourceNotifications.WaitForResourceHealthyAsync("kvcache", timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("engine-0", timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("engine-1", timeout.Token);
        var api = await app.ResourceNotifications.WaitForResourceHealthyAsync("api", timeout.Token);

        // The cache answers at the connection string every service receives.
        var kvcache = await app.GetConnectionStringAsync("kvcache", ct);
        Assert.NotNull(kvcache);
        var ping = await new RespPingHealthCheck(_ => ValueTask.FromResult<string?>(kvcache)).CheckHealthAsync(new HealthCheckContext(), ct);
        Assert.Equal(HealthStatus.Healthy, ping.Status);

        // Two processes, two ports, each answering for itself.
        var engineUris = new[] { app.GetEndpoint("engine-0", "http"), app.GetEndpoint("engine-1", "http") };
        Assert.NotEqual(engineUris[0].Port, engineUris[1].Port);
        foreach (var name in new[] { "engine-0", "engine-1" })
        {
            using var http = app.CreateHttpClient(name, "http");
            using var health = await http.GetAsync("/health", ct);
            Assert.True(health.IsSuccessStatusCode, $"{name} /health: {health.StatusCode}");
            using var ready = await http.GetAsync("/health/ready", ct);
            Assert.True(ready.IsSuccessStatusCode, $"{name} /health/ready: {ready.StatusCode}");
        }

        // The API's configuration contract: services__engine__http__{i}, one per replica, and the cache.
        var env = api.Snapshot.EnvironmentVariables.Where(e => e.IsFromSpec).ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal(engineUris[0], new Uri(env["services__engine__http__0"]!));
        Assert.Equal(engineUris[1], new Uri(env["services__engine__http__1"]!));
        Assert.False(env.ContainsKey("services__engine__http__2"));
        Assert.Equal(kvcache, env["ConnectionStrings__kvcache"]);

        using var apiHttp = app.CreateHttpClient("api", "http");
        using var apiHealth = await apiHttp.GetAsync("/health", ct);
        Assert.True(apiHealth.IsSuccessStatusCode);
    }

    [Fact]
    public async Task Engines_receive_the_model_backend_and_cache_settings()
    {
        var ct = TestContext.Current.CancellationToken;
        RedisServerOnPath.Find();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(
            ["--Fathom:KvCache:Mode=redis-server", "--Fathom:Engine:Replicas=3", "--Parameters:model=/models/x.gguf", "--Parameters:backend=cpu"], ct);

        // The app model only: nothing is started.
        var model = builder.Resources.OfType<ProjectResource>().ToDictionary(r => r.Name);
        Assert.Equal(["api", "chat", "engine-0", "engine-1", "engine-2"], model.Keys.Order(StringComparer.Ordinal));
        Assert.IsType<RedisServerResource>(builder.Resources.Single(r => r.Name == "kvcache"));

        var parameters = builder.Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);
        Assert.Equal("/models/x.gguf", await parameters["model"].GetValueAsync(ct));
        Assert.Equal("cpu", await parameters["backend"].GetValueAsync(ct));
    }
}
