using System.Diagnostics;
using Fathom.Testing;
using StackExchange.Redis;

namespace Fathom.KvCache.Redis.Tests.Garnet;

public class GarnetProcessTests
{
    [Fact]
    public async Task The_console_app_serves_on_the_given_port_and_stops_on_sigterm()
    {
        var ct = TestContext.Current.CancellationToken;
        int port = ServiceProcess.FreePort();
        string dll = Path.Combine(AppContext.BaseDirectory, "Fathom.KvCache.Garnet.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { dll, "--port", port.ToString(), "--bind", "127.0.0.1" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        try
        {
            var listening = new TaskCompletionSource<string>();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("listening", StringComparison.Ordinal) == true)
                {
                    listening.TrySetResult(e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            string line = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.Contains($"127.0.0.1:{port}", line);

            await using (var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}"))
            {
                var db = redis.GetDatabase();
                await db.StringSetAsync("k", "v", TimeSpan.FromMinutes(1));
                Assert.Equal("v", (string?)await db.StringGetAsync("k"));
            }

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
            {
                await kill.WaitForExitAsync(ct);
            }

            await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }
}
