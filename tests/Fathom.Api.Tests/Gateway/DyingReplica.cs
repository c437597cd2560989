using System.Net;
using System.Net.Sockets;
using System.Text;
using Fathom.Testing;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// A replica killed mid-request, on a raw socket (HttpListener cannot drop a connection without answering): healthy
/// on <c>/health/*</c>; every <c>/v1/*</c> request is read whole, counted, and its connection reset with no answer.
/// </summary>
internal sealed class DyingReplica : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serve;
    private int _requests;

    public DyingReplica()
    {
        int port = ServiceProcess.FreePort();
        Address = new Uri($"http://127.0.0.1:{port}");
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _serve = Task.Run(ServeAsync);
    }

    public Uri Address { get; }

    /// <summary>The <c>/v1/*</c> requests this replica took and dropped.</summary>
    public int Requests => Volatile.Read(ref _requests);

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ConnectionAsync(socket));
        }
    }

    private async Task ConnectionAsync(Socket socket)
    {
        using (socket)
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            try
            {
                while (await ReadRequestAsync(stream) is { } path)
                {
                    if (path.StartsWith("/v1/", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref _requests);
                        socket.LingerState = new LingerOption(true, 0); // close with a reset, as a killed process's kernel may
                        return;
                    }

                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nHealthy"u8.ToArray(), _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    // Reads one request's head and its Content-Length body; returns its path, or null at the end of the connection.
    private async Task<string?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                return null;
            }

            head.Append((char)one[0]);
        }

        string[] lines = head.ToString().Split("\r\n");
        long length = lines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => long.Parse(p[1].Trim())).FirstOrDefault();
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, _stop.Token);
        return lines[0].Split(' ')[1];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serve;
        _stop.Dispose();
    }
}
