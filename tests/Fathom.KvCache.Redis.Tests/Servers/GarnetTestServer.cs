using Fathom.KvCache.Garnet;
using Fathom.Testing;

namespace Fathom.KvCache.Redis.Tests.Servers;

/// <summary>The embedded Garnet server on a free loopback port.</summary>
public sealed class GarnetTestServer : IKvTestServer
{
    private readonly int _port;
    private EmbeddedGarnetServer? _server;

    private GarnetTestServer(int port) => _port = port;

    public string ConnectionString => $"127.0.0.1:{_port}";

    public bool SupportsDebugSleep => false;

    public static async Task<GarnetTestServer> StartAsync()
    {
        var server = new GarnetTestServer(ServiceProcess.FreePort());
        await server.RestartAsync();
        return server;
    }

    public async Task RestartAsync()
    {
        _server = EmbeddedGarnetServer.Start(_port);
        await RespPing.WaitAsync(_port, TimeSpan.FromSeconds(10));
    }

    public Task KillAsync()
    {
        _server?.Dispose();
        _server = null;
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
