using Fathom.AppHost;
using Fathom.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fathom.AppHost.Tests.KvCache;

public sealed class RespPingHealthCheckTests
{
    [Fact]
    public async Task A_running_redis_server_is_healthy_and_a_closed_port_is_not()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var redis = await RedisServer.StartAsync())
        {
            var check = new RespPingHealthCheck(_ => ValueTask.FromResult<string?>(redis.ConnectionString));
            Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext(), ct)).Status);
        }

        var closed = new RespPingHealthCheck(_ => ValueTask.FromResult<string?>($"127.0.0.1:{ServiceProcess.FreePort()}"));
        Assert.Equal(HealthStatus.Unhealthy, (await closed.CheckHealthAsync(new HealthCheckContext(), ct)).Status);
        var unknown = new RespPingHealthCheck(_ => ValueTask.FromResult<string?>(null));
        Assert.Equal(HealthStatus.Unhealthy, (await unknown.CheckHealthAsync(new HealthCheckContext(), ct)).Status);
    }
}
