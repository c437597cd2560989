using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fathom.AppHost;

/// <summary>
/// Healthy when the server at the resource's connection string answers a RESP <c>PING</c>, so dependants wait
/// until Redis (or Garnet) accepts commands, not merely until its process exists.
/// </summary>
internal sealed class RespPingHealthCheck(Func<CancellationToken, ValueTask<string?>> connectionString) : IHealthCheck
{
    private const int DefaultRedisPort = 6379;
    private static readonly byte[] Ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var text = await connectionString(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            return HealthCheckResult.Unhealthy("no connection string yet");
        }

        try
        {
            var (host, port) = ParseEndpoint(text);
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync(Ping, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            var reply = Encoding.ASCII.GetString(buffer, 0, read);

            // A password-protected server still proves it is up by refusing the PING.
            return reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"unexpected reply to PING: {reply.TrimEnd()}");
        }
        catch (SocketException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message, ex);
        }
    }

    /// <summary>The first endpoint of a StackExchange.Redis connection string (<c>host:port,option=…</c>).</summary>
    public static (string Host, int Port) ParseEndpoint(string connectionString)
    {
        var first = connectionString.Split(',', 2)[0].Trim();
        var colon = first.LastIndexOf(':');
        var bracketClose = first.LastIndexOf(']');
        if (colon < 0 || colon < bracketClose)
        {
            return (first.Trim('[', ']'), DefaultRedisPort);
        }
        var host = first[..colon].Trim('[', ']');
        var port = int.Parse(first[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
        return (host, port);
    }
}
