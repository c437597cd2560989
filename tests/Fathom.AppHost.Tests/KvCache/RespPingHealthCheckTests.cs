using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Fathom.AppHost;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fathom.AppHost.Tests.KvCache;

public sealed class RespPingHealthCheckTests
{
    [Fact]
    public async Task A_running_redis_server_is_healthy_and_a_closed_port_is_not()
    {
        var ct = TestContext.Current.CancellationToken;
        var redisServer = RedisServerOnPath.Find();
        var port = FreePort();
        using var process = Process.Start(new ProcessStartInfo(redisServer, ["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
        })!;
        try
        {
            var check = new RespPingHealthCheck(_ => ValueTask.FromResult<string?>($"127.0.0.1:{port}"));
            var status = HealthStatus.Unhealthy;
            for (var attempt = 0; attempt < 50 && status != HealthStatus.Healthy; attempt++)
            {
                status = (await check.CheckHealthAsync(new HealthCheckContext(), ct)).Status;
                await Task.Delay(100, ct);
            }
            Assert.Equal(HealthStatus.Healthy, status);
        }
        finally
        {
            process.Kill();
        }

        var closed = new RespPingHealthCheck(_ => ValueTask.FromResult<string?>($"127.0.0.1:{FreePort()}"));
        Assert.Equal(HealthStatus.Unhealthy, (await closed.CheckHealthAsync(new HealthCheckContext(), ct)).Status);
        var unknown = new RespPingHealthCheck(_ => ValueTask.FromResult<string?>(null));
        Assert.Equal(HealthStatus.Unhealthy, (await unknown.CheckHealthAsync(new HealthCheckContext(), ct)).Status);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
