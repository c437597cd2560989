using Fathom.Testing;
using System.Diagnostics;
using System.Text.Json;

namespace Fathom.EngineService.Tests.Serving;

/// <summary><c>fathom bench serve</c> against the real service.</summary>
public sealed class BenchServeTests(EngineServiceFixture fixture)
{
    [Fact]
    public async Task Bench_serve_reports_throughput_and_latency_percentiles()
    {
        var service = fixture.Require().Service;
        var (exit, output, error) = await RunFathomAsync("bench", "serve", "--url", service.BaseAddress.ToString(),
            "--concurrency", "2", "--requests", "4", "--prompt-tokens", "16", "--gen-tokens", "8", "--json");

        Assert.True(exit == 0, error);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(4, result.GetProperty("requests").GetInt32());
        Assert.Equal(0, result.GetProperty("failed").GetInt32());
        Assert.True(result.GetProperty("output_tok_s").GetDouble() > 0);
        var ttft = result.GetProperty("ttft_ms");
        Assert.True(ttft.GetProperty("p50").GetDouble() > 0);
        Assert.True(ttft.GetProperty("p99").GetDouble() >= ttft.GetProperty("p50").GetDouble());
        Assert.True(result.GetProperty("latency_s").GetProperty("p50").GetDouble() * 1000 >= ttft.GetProperty("p50").GetDouble());
    }

    [Fact]
    public async Task A_bad_url_is_a_one_line_error()
    {
        var (exit, _, error) = await RunFathomAsync("bench", "serve", "--url", "not a url");

        Assert.Equal(2, exit);
        Assert.StartsWith("fathom bench serve:", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    private static async Task<(int Exit, string Output, string Error)> RunFathomAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fathom.dll"));
        foreach (string arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output, await error);
    }
}
