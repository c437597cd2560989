using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Garnet;
using Microsoft.Extensions.Logging;

namespace Fathom.KvCache.Garnet;

/// <summary>
/// A Redis-compatible server (Microsoft Garnet) hosted in this process: the KV tier's default where no Redis is
/// configured, and a real server for tests. Speaks RESP on loopback (or the given address); no persistence.
/// </summary>
public sealed class EmbeddedGarnetServer : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedGarnetServer(GarnetServer server, string bind, int port)
    {
        _server = server;
        Bind = bind;
        Port = port;
    }

    /// <summary>The address the server listens on.</summary>
    public string Bind { get; }

    /// <summary>The TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string for the server.</summary>
    public string ConnectionString => $"{Bind}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Starts a server; returns once it accepts connections.</summary>
    /// <param name="port">TCP port; 0 picks a free one.</param>
    /// <param name="bind">Address to listen on.</param>
    /// <param name="extraArguments">Further Garnet command-line options (e.g. <c>--memory 1g</c>).</param>
    /// <param name="loggerFactory">Receives Garnet's logs; none when null.</param>
    public static EmbeddedGarnetServer Start(
        int port = 0, string bind = "127.0.0.1", IEnumerable<string>? extraArguments = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        ArgumentException.ThrowIfNullOrWhiteSpace(bind);
        if (port == 0)
        {
            port = FreePort(bind);
        }

        string[] arguments =
        [
            "--bind", bind,
            "--port", port.ToString(CultureInfo.InvariantCulture),
            .. extraArguments ?? DefaultArguments,
        ];
        var server = new GarnetServer(arguments, loggerFactory);
        try
        {
            server.Start();
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return new EmbeddedGarnetServer(server, bind, port);
    }

    /// <summary>
    /// Options used when none are given: a small hash index (the default 128 MiB is sized for servers) and a log
    /// memory that holds a few hundred megabytes of KV blocks before Garnet evicts the oldest; no banner.
    /// </summary>
    public static IReadOnlyList<string> DefaultArguments { get; } = ["--index", "16m", "--memory", "512m", "-q"];

    /// <summary>Stops listening and frees the store.</summary>
    public void Dispose() => _server.Dispose();

    private static int FreePort(string bind)
    {
        using var listener = new TcpListener(IPAddress.Parse(bind), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
