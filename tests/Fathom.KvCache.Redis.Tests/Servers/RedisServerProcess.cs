using System.Diagnostics;

namespace Fathom.KvCache.Redis.Tests.Servers;

/// <summary>Debian's redis-server as a child process on a free loopback port, without persistence.</summary>
public sealed class RedisServerProcess : IKvTestServer
{
    private readonly int _port;
    private Process? _process;

    private RedisServerProcess(int port) => _port = port;

    /// <summary>The redis-server executable, or null when it is not installed.</summary>
    public static string? Executable { get; } =
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
        ?? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);

    public string ConnectionString => $"127.0.0.1:{_port}";

    public bool SupportsDebugSleep => true;

    public static async Task<RedisServerProcess> StartAsync()
    {
        if (Executable is null)
        {
            Assert.Skip("redis-server is not installed (apt-get install redis-server).");
        }

        var server = new RedisServerProcess(FreePort.Next());
        await server.RestartAsync();
        return server;
    }

    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo(Executable!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "--port", _port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--enable-debug-command", "yes", "--protected-mode", "no",
        })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await FreePort.WaitForPongAsync(_port, TimeSpan.FromSeconds(10));
    }

    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
