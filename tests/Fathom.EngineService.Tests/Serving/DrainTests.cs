using System.Diagnostics;
using System.Net;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>SIGTERM drains the replica: streams in flight finish, new requests get 503 draining, the process exits 0.</summary>
public sealed class DrainTests
{
    [Fact]
    public async Task On_SIGTERM_a_stream_in_flight_completes_new_requests_get_503_and_the_process_exits_0()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "SIGTERM is a POSIX signal");
        // One sequence at a time, so the streams queue and the drain has work to wait for.
        await using var service = await EngineServiceProcess.StartAsync(arguments: ["--shutdown-timeout", "30", "--max-num-seqs", "1"]);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        var ct = TestContext.Current.CancellationToken;

        var streams = Enumerable.Range(0, 4).Select(_ => http.SendAsync(StreamRequest(), HttpCompletionOption.ResponseHeadersRead, ct)).ToList();
        using var first = await streams[0];
        using var reader = new StreamReader(await first.Content.ReadAsStreamAsync(ct));
        Assert.StartsWith("data: {", await reader.ReadLineAsync(ct), StringComparison.Ordinal); // generating

        using (var kill = Process.Start("kill", ["-TERM", service.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(ct);
        }

        HttpStatusCode status = HttpStatusCode.OK;
        for (int i = 0; i < 50 && status == HttpStatusCode.OK; i++)
        {
            using var content = CompletionsTests.JsonContent(new { prompt = "Once", max_tokens = 2 });
            using var refused = await http.PostAsync("/v1/completions", content, ct);
            status = refused.StatusCode;
            if (status == HttpStatusCode.ServiceUnavailable)
            {
                Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
                var error = await ErrorTests.ErrorOf(refused, HttpStatusCode.ServiceUnavailable);
                Assert.Equal("draining", error.GetProperty("code").GetString());
            }
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        string rest = await reader.ReadToEndAsync(ct);
        Assert.Contains("data: [DONE]", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("\"error\"", rest, StringComparison.Ordinal);
        foreach (var stream in streams.Skip(1))
        {
            using var response = await stream;
            Assert.Contains("data: [DONE]", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }

        Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromSeconds(40)));
    }

    [Fact]
    public async Task A_stream_still_running_when_the_drain_time_is_up_ends_with_an_error_event()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "SIGTERM is a POSIX signal");
        // No drain time at all, and queued streams, so that work is surely left when SIGTERM comes.
        await using var service = await EngineServiceProcess.StartAsync(arguments: ["--shutdown-timeout", "0", "--max-num-seqs", "1"]);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        var ct = TestContext.Current.CancellationToken;

        var streams = Enumerable.Range(0, 6).Select(_ => http.SendAsync(StreamRequest(), HttpCompletionOption.ResponseHeadersRead, ct)).ToList();
        using var first = await streams[0];
        using var reader = new StreamReader(await first.Content.ReadAsStreamAsync(ct));
        Assert.StartsWith("data: {", await reader.ReadLineAsync(ct), StringComparison.Ordinal);
        using (var kill = Process.Start("kill", ["-TERM", service.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(ct);
        }

        string rest = await reader.ReadToEndAsync(ct);
        string last = rest.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
        Assert.StartsWith("data: {\"error\":", last, StringComparison.Ordinal);
        Assert.Contains("server_error", last, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", rest, StringComparison.Ordinal);
        Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    private static HttpRequestMessage StreamRequest() => new(HttpMethod.Post, "/v1/completions")
    {
        Content = CompletionsTests.JsonContent(new { prompt = "Once upon a time", max_tokens = 300, temperature = 0, ignore_eos = true, stream = true }),
    };
}
