using System.Net;
using System.Net.Sockets;

namespace Fathom.KvCache.Redis.Tests.Servers;

internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until a RESP server on the port answers PING, or throws after the deadline.</summary>
    public static async Task WaitForPongAsync(int port, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                int read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
                if (read > 0 && buffer[0] == (byte)'+')
                {
                    return;
                }
            }
            catch (Exception) when (DateTime.UtcNow < until)
            {
            }

            if (DateTime.UtcNow >= until)
            {
                throw new TimeoutException($"No PONG on port {port} within {deadline}.");
            }

            await Task.Delay(20);
        }
    }
}
