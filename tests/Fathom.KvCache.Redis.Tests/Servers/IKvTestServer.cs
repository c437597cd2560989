namespace Fathom.KvCache.Redis.Tests.Servers;

/// <summary>A real Redis-protocol server on loopback that a test can stop and bring back on the same port.</summary>
public interface IKvTestServer : IAsyncDisposable
{
    string ConnectionString { get; }

    /// <summary>Whether <c>DEBUG SLEEP</c> makes the server unresponsive (redis-server yes, Garnet no).</summary>
    bool SupportsDebugSleep { get; }

    /// <summary>Stops the server abruptly (process killed / listener torn down).</summary>
    Task KillAsync();

    /// <summary>Starts the server again on the same port (empty: no persistence).</summary>
    Task RestartAsync();
}
