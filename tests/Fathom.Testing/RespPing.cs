using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Fathom.Testing;

/// <summary>Waits for a Redis-protocol server (redis-server, Garnet) on a loopback port to answer <c>PING</c>.</summary>
public static class RespPing
{
    /// <summary>
    /// Returns once the server on <paramref name="port"/> answers <c>+PONG</c>; throws <see cref="TimeoutException"/>
    /// after <paramref name="timeout"/>, or as soon as <paramref name="gaveUp"/> says the server cannot come up.
    /// </summary>
    public static async Task WaitAsync(int port, TimeSpan timeout, Func<bool>? gaveUp = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var reply = new byte[16];
                if (await stream.ReadAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(1)) > 0 && reply[0] == (byte)'+')
                {
                    return;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException && clock.Elapsed < timeout)
            {
            }

            if (clock.Elapsed >= timeout || gaveUp?.Invoke() == true)
            {
                throw new TimeoutException($"no PONG on port {port} within {timeout}");
            }

            await Task.Delay(20);
        }
    }
}
