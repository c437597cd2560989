using System.Net.Http.Json;
using Fathom.Testing;
using Fathom.Testing.Otlp;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// Traces a person can read: the API probes its engines' <c>/health/ready</c> and reads their <c>/metrics</c> every
/// second or so, and is itself probed and scraped; none of that reaches the traces (it stays in the metrics), while
/// a chat request's spans do.
/// </summary>
[Collection(nameof(EngineReplicas))]
public sealed class ProbeTracingTests(EngineReplicas replicas)
{
    private static readonly string[] ProbePaths = ["/health", "/alive", "/metrics"];

    private static bool IsProbe(OtlpSpan span) =>
        span.Attributes.Where(a => a.Key is "url.full" or "url.path" or "http.route" or "http.target").Select(a => a.Value as string)
            .Any(value => value is not null && ProbePaths.Any(p => value.Contains(p, StringComparison.Ordinal)))
        || ProbePaths.Any(p => span.Name.Contains(p, StringComparison.Ordinal));

    [Fact]
    public async Task Probes_and_scrapes_sent_and_answered_are_left_out_of_the_traces()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A.BaseAddress, replicas.B.BaseAddress],
            new Dictionary<string, string?>(receiver.Environment) { ["OTEL_SERVICE_NAME"] = "api" });
        using var http = EngineReplicas.Http(api);

        // The API probes each replica every second and polls its load every half second (EngineReplicas' settings).
        await Task.Delay(TimeSpan.FromSeconds(4), ct);
        foreach (string path in ProbePaths)
        {
            using var probe = await http.GetAsync(path, ct);
        }

        using var chat = await http.PostAsJsonAsync("/v1/chat/completions",
            new { model = SharedFixtures.Stories260KName, max_tokens = 2, messages = new[] { new { role = "user", content = "Once" } } }, ct);
        Assert.True(chat.IsSuccessStatusCode);
        var spans = await receiver.WaitForAsync(all => all.Count(s => s.ServiceName == "api") >= 2, TimeSpan.FromSeconds(10), ct);
        await Task.Delay(TimeSpan.FromSeconds(1), ct); // one more export batch, for any probe span queued behind
        spans = receiver.Spans;

        Assert.DoesNotContain(spans, IsProbe);
        // The chat is there: the API's server span and, under it, its forward to a replica.
        var server = Assert.Single(spans, s => s.ServiceName == "api" && s.Attributes.TryGetValue("url.path", out var p) && (string)p == "/v1/chat/completions");
        Assert.Contains(spans, s => s.TraceId == server.TraceId && s.ParentSpanId.Length > 0 && s.Attributes.ContainsKey("url.full"));
        Assert.All(spans.Where(s => s.ServiceName == "api"), s => Assert.Equal(server.TraceId, s.TraceId));
    }
}
