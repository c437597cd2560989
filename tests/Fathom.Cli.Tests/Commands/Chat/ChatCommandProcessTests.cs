using System.Diagnostics;
using System.Text;
using Fathom.Testing;

namespace Fathom.Cli.Tests.Commands.Chat;

/// <summary><c>fathom chat</c> as a user runs it: its own process, typed input on stdin, Ctrl+C as a real SIGINT.</summary>
public sealed class ChatCommandProcessTests
{
    [Fact]
    public async Task Ctrl_C_stops_the_answer_not_the_program_and_the_end_of_input_quits()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("sends SIGINT with kill(1)");
        }

        var ct = TestContext.Current.CancellationToken;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "fathom.dll"), "chat", "--model", SharedFixtures.Default.GetPath(SharedFixtures.Stories260K),
            "--threads", "1", "--max-tokens", "400" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var output = new StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[256];
            int n;
            while ((n = await process.StandardOutput.ReadAsync(buffer, ct)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, n);
                }
            }
        }, ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        string Output()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        try
        {
            await process.StandardInput.WriteLineAsync("Once upon a time");
            await process.StandardInput.FlushAsync(ct);
            var clock = Stopwatch.StartNew();
            // Some of the answer is on screen: now press Ctrl+C.
            while (Output().Split(">>> ").Length < 2 || Output().Split(">>> ")[^1].Length < 10)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "no answer came: " + Output());
                await Task.Delay(20, ct);
            }

            using (var kill = Process.Start("kill", ["-s", "INT", process.Id.ToString()]))
            {
                await kill.WaitForExitAsync(ct);
            }

            await process.StandardInput.WriteLineAsync("/system Tell a story.");
            await process.StandardInput.WriteLineAsync("Once upon a time");
            process.StandardInput.Close();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(90));
            await process.WaitForExitAsync(timeout.Token);
            await reading;

            var text = Output();
            Assert.True(process.ExitCode == 0, text + await errors);
            Assert.Contains("[answer stopped; not kept in the history]", text);
            Assert.Contains("(system prompt set)", text);
            // The next message was answered whole, after the stop.
            Assert.True(text.IndexOf("[prompt", StringComparison.Ordinal) > text.IndexOf("[answer stopped", StringComparison.Ordinal), text);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
