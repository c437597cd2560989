using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Testing;
using Fathom.Testing.Otlp;
using StackExchange.Redis;

namespace Fathom.KvCache.Redis.Tests.Service;

/// <summary>
/// One chat completion through the real API, an engine service (stories260K) and redis-server, all exporting OTLP to
/// a receiver in the test: the API's, the engine's and the KV tier's spans form one trace with an unbroken parent
/// chain, and carry the client's <c>x-request-id</c>.
/// </summary>
public sealed class EndToEndTraceTests
{
    private const string Api = "api";
    private const string Engine = "engine";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object ChatBody { get; } = new
    {
        messages = new object[]
        {
            new { role = "system", content = string.Concat(Enumerable.Repeat("Once upon a time there was a little girl who liked to play in the park. ", 6)) },
            new { role = "user", content = "Tell me a story." },
        },
        max_tokens = 8,
        temperature = 0,
    };

    [Fact]
    public async Task A_prefix_hit_through_the_api_is_one_trace_from_the_api_to_redis()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        var engineEnv = new Dictionary<string, string?>(receiver.Environment)
        {
            ["ConnectionStrings__kvcache"] = redis.ConnectionString,
            ["Fathom__KvCache__FetchTimeout"] = "00:00:03",
        };

        // Engine A computes the prefix and writes it behind to Redis; engine B, behind the API, finds it there.
        // OTEL_SERVICE_NAME is what the AppHost sets for each resource.
        await using var warm = await EngineServiceProcess.StartAsync(environment: new Dictionary<string, string?>(engineEnv) { ["OTEL_SERVICE_NAME"] = "warm" });
        await using var engine = await EngineServiceProcess.StartAsync(environment: new Dictionary<string, string?>(engineEnv) { ["OTEL_SERVICE_NAME"] = Engine });
        // The warm-up goes straight to engine A without a cache_salt, so the API must not salt this request per key
        // (its default) for engine B to find A's blocks: the prefix cache is shared on purpose here.
        await using var api = await ApiServiceProcess.StartAsync(
            [engine.BaseAddress], new Dictionary<string, string?>(receiver.Environment)
            {
                ["OTEL_SERVICE_NAME"] = Api,
                ["Fathom__Api__PrefixCacheSharing"] = "global",
            });

        using (var direct = new HttpClient { BaseAddress = warm.BaseAddress, Timeout = TimeSpan.FromMinutes(2) })
        {
            using var first = await direct.PostAsJsonAsync("/v1/chat/completions", ChatBody, Ct);
            Assert.True(first.IsSuccessStatusCode, warm.Output);
        }

        await WaitForKeysAsync(redis.ConnectionString);

        string requestId = $"trace-test-{Guid.NewGuid():N}";
        using var http = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(ChatBody) };
        request.Headers.Add("x-request-id", requestId);
        using var response = await http.SendAsync(request, Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{body}\n{api.Output}\n{engine.Output}");
        Assert.True(body.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32() > 0, $"no prefix hit: {body}");
        Assert.Equal(requestId, response.Headers.GetValues("x-request-id").Single());

        // The API's server span is the root: find its trace, then wait for the engine's and the tier's spans in it.
        var spans = await receiver.WaitForAsync(
            all => TraceOf(all, requestId) is { } trace
                && trace.FirstOrDefault(s => s.Name == "generate") is { } generated && trace.Any(s => s.Name == "kvcache.fetch")
                // The engine's server span ends (and is exported) after the response, often in a later batch than "generate".
                && trace.Any(s => s.SpanId == generated.ParentSpanId),
            TimeSpan.FromSeconds(20), Ct);
        var trace = TraceOf(spans, requestId);
        Assert.True(trace is not null, $"no API span tagged {requestId}; received:\n{string.Join('\n', spans)}");
        string Dump() => string.Join('\n', trace);

        var root = Assert.Single(trace, IsRoot);
        Assert.Equal(Api, root.ServiceName);
        Assert.Equal(requestId, root.Attributes["fathom.request_id"]);

        var generate = Assert.Single(trace, s => s.Name == "generate");
        Assert.Equal("Fathom.Engine", generate.Scope);
        Assert.Equal(Engine, generate.ServiceName);
        Assert.Equal(requestId, generate.Attributes["fathom.request_id"]);
        Assert.True((long)generate.Attributes["gen_ai.usage.input_tokens"] > 16, Dump());
        Assert.Equal(8L, generate.Attributes["gen_ai.usage.output_tokens"]);
        Assert.True((long)generate.Attributes["fathom.usage.cached_tokens"] > 0, Dump());
        Assert.Contains("scheduled", generate.Events);
        Assert.Contains("first_token", generate.Events);

        var fetch = Assert.Single(trace, s => s.Name == "kvcache.fetch");
        Assert.Equal("Fathom.KvCache", fetch.Scope);
        Assert.Equal(Engine, fetch.ServiceName);

        // Both engine spans hang under the engine's HTTP server span, which hangs under the API's (YARP's) client span.
        var engineServer = Assert.Single(trace, s => s.SpanId == generate.ParentSpanId);
        Assert.Equal(Engine, engineServer.ServiceName);
        Assert.Equal(requestId, engineServer.Attributes["fathom.request_id"]);
        Assert.Equal(engineServer.SpanId, fetch.ParentSpanId);
        var chain = ChainToRoot(trace, generate);
        Assert.Equal(root, chain[^1]);
        Assert.Contains(chain, s => s.ServiceName == Api && s != root); // the forwarder's client span

        // Writes are behind, batched across requests: each batch is its own root, never part of a request's trace.
        Assert.DoesNotContain(trace, s => s.Name == "kvcache.write");
        Assert.Contains(spans, s => s.ServiceName == "warm" && s.Name == "kvcache.write" && IsRoot(s));
    }

    private static bool IsRoot(OtlpSpan span) => span.ParentSpanId.Length == 0 || span.ParentSpanId == new string('0', 16);

    /// <summary>The spans sharing the trace id of the API span tagged with <paramref name="requestId"/>.</summary>
    private static List<OtlpSpan>? TraceOf(IReadOnlyList<OtlpSpan> spans, string requestId)
    {
        var apiSpan = spans.FirstOrDefault(s => s.ServiceName == Api && s.Attributes.TryGetValue("fathom.request_id", out var id) && (string)id == requestId);
        return apiSpan is null ? null : [.. spans.Where(s => s.TraceId == apiSpan.TraceId)];
    }

    /// <summary>From <paramref name="span"/> up through the parents; fails on a broken link.</summary>
    private static List<OtlpSpan> ChainToRoot(List<OtlpSpan> trace, OtlpSpan span)
    {
        var chain = new List<OtlpSpan> { span };
        while (!IsRoot(chain[^1]))
        {
            var next = trace.SingleOrDefault(s => s.SpanId == chain[^1].ParentSpanId);
            Assert.True(next is not null, $"{chain[^1]} has a parent missing from the trace:\n{string.Join('\n', trace)}");
            chain.Add(next);
            Assert.True(chain.Count < 20, "parent cycle");
        }

        return chain;
    }

    private static async Task WaitForKeysAsync(string connectionString)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString + ",abortConnect=false");
        var db = redis.GetDatabase();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        long keys = 0, previous = -1;
        // Written behind: wait until the count is positive and has stopped growing.
        while (DateTime.UtcNow < deadline && (keys == 0 || keys != previous))
        {
            previous = keys;
            await Task.Delay(300, Ct);
            keys = (long)await db.ExecuteAsync("DBSIZE");
        }

        Assert.True(keys > 0, "nothing was written to Redis");
    }
}
