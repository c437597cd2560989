using Fathom.Testing;

namespace Fathom.KvCache.Redis.Tests.Servers;

/// <summary>Debian's redis-server (<see cref="RedisServer"/>) as an <see cref="IKvTestServer"/>.</summary>
public sealed class RedisServerProcess : IKvTestServer
{
    private readonly RedisServer _server;

    private RedisServerProcess(RedisServer server) => _server = server;

    /// <summary>The redis-server executable, or null when it is not installed.</summary>
    public static string? Executable => RedisServer.Executable;

    public string ConnectionString => _server.ConnectionString;

    public bool SupportsDebugSleep => true;

    public static async Task<RedisServerProcess> StartAsync() => new(await RedisServer.StartAsync());

    public Task RestartAsync() => _server.RestartAsync();

    public Task KillAsync() => _server.KillAsync();

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
