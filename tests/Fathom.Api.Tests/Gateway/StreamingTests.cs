using Fathom.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using OpenAI.Chat;

namespace Fathom.Api.Tests.Gateway;

// One collection: the tests share two engine replicas and measure routing and limits on them, one at a time.
[Collection(nameof(EngineReplicas))]
public sealed partial class StreamingTests(EngineReplicas replicas)
{
    private static object Body(int maxTokens, bool ignoreEos = false) => new
    {
        model = SharedFixtures.Stories260KName,
        stream = true,
        temperature = 0,
        max_tokens = maxTokens,
        ignore_eos = ignoreEos,
        messages = new[] { new { role = "user", content = "Once upon a time" } },
    };

    [Fact]
    public async Task A_stream_through_the_gateway_is_byte_identical_to_the_engines_own()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A]);

        async Task<string> StreamAsync(HttpClient http)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", Body(24), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            // Each response has its own id and creation second; every other byte must match.
            return Volatile().Replace(await response.Content.ReadAsStringAsync(ct), "\"$1\":0");
        }

        using var direct = EngineReplicas.Http(replicas.A, key: null);
        using var gateway = EngineReplicas.Http(api);
        string fromEngine = await StreamAsync(direct);
        string fromGateway = await StreamAsync(gateway);
        Assert.EndsWith("data: [DONE]\n\n", fromEngine);
        Assert.Equal(fromEngine, fromGateway);

        var text = new System.Text.StringBuilder();
        await foreach (var update in EngineReplicas.Chat(api).CompleteChatStreamingAsync(
            [new UserChatMessage("Once upon a time")], new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0 }, ct))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal(Content(fromEngine), text.ToString());
    }

    [Fact]
    public async Task A_client_that_hangs_up_cancels_the_engine_sequence()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.B]);
        const string Cancelled = "error_type=\"cancelled\"";
        double before = await EngineReplicas.MetricAsync(replicas.B, "gen_ai_server_request_duration_seconds_count", Cancelled);

        // No draining on dispose: HttpClient would otherwise read the rest of a short stream to reuse the connection.
        using (var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = api.BaseAddress })
        {
            // Eight completions with 20 alternatives per token: megabytes of SSE, far more than socket buffers hold,
            // so the engine is still generating when the client hangs up, however fast the machine.
            var body = new
            {
                model = SharedFixtures.Stories260KName,
                stream = true,
                temperature = 0,
                max_tokens = 400,
                ignore_eos = true,
                n = 8,
                logprobs = true,
                top_logprobs = 20,
                messages = new[] { new { role = "user", content = "Once upon a time" } },
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(body) };
            request.Headers.Authorization = new("Bearer", EngineReplicas.Key);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            Assert.True(await stream.ReadAsync(new byte[16], ct) > 0);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        double after;
        do
        {
            await Task.Delay(100, ct);
            after = await EngineReplicas.MetricAsync(replicas.B, "gen_ai_server_request_duration_seconds_count", Cancelled);
        }
        while (after <= before && DateTime.UtcNow < deadline);

        Assert.Equal(before + 1, after);
    }

    /// <summary>The concatenated <c>delta.content</c> of a chat stream.</summary>
    private static string Content(string sse) => string.Concat(sse.Split('\n')
        .Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
        .Select(l => System.Text.Json.JsonDocument.Parse(l["data: ".Length..]).RootElement.GetProperty("choices"))
        .Where(c => c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out _))
        .Select(c => c[0].GetProperty("delta").GetProperty("content").GetString()));

    [GeneratedRegex("\"(id|created)\":(\"[^\"]*\"|\\d+)")]
    private static partial Regex Volatile();
}
