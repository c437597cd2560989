using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Fathom.Testing;

/// <summary>
/// A real <c>redis-server</c> from PATH as a child process on a free loopback port, with no persistence and
/// <c>DEBUG</c> enabled (tests stall it with <c>DEBUG SLEEP</c>). It can be killed and restarted on the same port.
/// Tests that need it skip (or fail under FATHOM_REQUIRE_FIXTURES) where it is not installed.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;

    private RedisServer(int port) => Port = port;

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>StackExchange.Redis form, as <c>ConnectionStrings__NAME</c> takes it.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>redis-server on PATH, or null.</summary>
    public static string? Executable { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "redis-server"))
        .FirstOrDefault(File.Exists);

    /// <summary>
    /// <see cref="Executable"/>; where there is none, skips the calling test (fails it under FATHOM_REQUIRE_FIXTURES).
    /// For tests that have something else start redis-server (the AppHost).
    /// </summary>
    public static string RequireExecutable()
    {
        if (Executable is null)
        {
            if (SharedFixtures.RequiredByEnvironment())
            {
                throw new InvalidOperationException("redis-server is not on PATH (apt-get install redis-server)");
            }

            Assert.Skip("redis-server is not on PATH (apt-get install redis-server).");
        }

        return Executable;
    }

    /// <summary>Starts one and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        RequireExecutable();
        var server = new RedisServer(ServiceProcess.FreePort());
        try
        {
            await server.RestartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) on the same port, empty, and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo(Executable!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])[
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--enable-debug-command", "yes", "--protected-mode", "no"])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server");
        _process = process;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await RespPing.WaitAsync(Port, TimeSpan.FromSeconds(10), () => process.HasExited);
    }

    /// <summary>Kills the process abruptly (no shutdown, no save).</summary>
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

    /// <summary>Kills the process.</summary>
    public async ValueTask DisposeAsync() => await KillAsync();
}
