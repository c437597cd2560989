using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Fathom.Testing;

/// <summary>
/// A real <c>redis-server</c> from PATH as a child process on a free loopback port, with no persistence. Tests that
/// need it skip (or fail under FATHOM_REQUIRE_FIXTURES) where it is not installed.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>StackExchange.Redis form, as <c>ConnectionStrings__NAME</c> takes it.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>redis-server on PATH, or null.</summary>
    public static string? Executable { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "redis-server"))
        .FirstOrDefault(File.Exists);

    /// <summary>Starts one and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        if (Executable is not { } executable)
        {
            if (Environment.GetEnvironmentVariable("FATHOM_REQUIRE_FIXTURES") == "1")
            {
                throw new InvalidOperationException("redis-server is not on PATH (apt-get install redis-server)");
            }

            Assert.Skip("redis-server is not on PATH (apt-get install redis-server).");
            throw new InvalidOperationException("unreachable: Assert.Skip throws");
        }

        int port = ServiceProcess.FreePort();
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        try
        {
            await server.WaitForPongAsync(TimeSpan.FromSeconds(10));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task WaitForPongAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var reply = new byte[8];
                if (await stream.ReadAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(1)) > 0 && reply[0] == (byte)'+')
                {
                    return;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException && deadline.Elapsed < timeout)
            {
            }

            if (deadline.Elapsed >= timeout || _process.HasExited)
            {
                throw new TimeoutException($"redis-server on port {Port} did not answer PING within {timeout}");
            }

            await Task.Delay(50);
        }
    }
}
