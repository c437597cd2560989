using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fathom.Testing;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// The per-key token budget against a real API in front of a real engine: each way a request used to slip past its
/// charge (no <c>max_tokens</c>, <c>4096.0</c>, <c>n</c>) is charged in full, the charge settles to the usage, and
/// the API and the engine read the same numbers alike.
/// </summary>
[Collection(nameof(EngineReplicas))]
public sealed class TokenChargeTests(EngineReplicas replicas)
{
    private const string Prompt = "Once upon a time";

    // The API's prompt estimate: the prompt's JSON text ("Once upon a time", quotes included) / 4.
    private const int PromptEstimate = 18 / 4;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string ChatBody(string extra) =>
        $$"""{"model":"{{SharedFixtures.Stories260KName}}","messages":[{"role":"user","content":"{{Prompt}}"}],"temperature":0{{extra}}}""";

    private static string CompletionBody(string extra) =>
        $$"""{"model":"{{SharedFixtures.Stories260KName}}","prompt":"{{Prompt}}","temperature":0{{extra}}}""";

    /// <summary>Runs a request and returns what the token counters moved by (they move once its response has ended).</summary>
    private static async Task<(double Charged, double Used, JsonElement Body)> ChargedAsync(ServiceProcess api, HttpClient http, string path, string json)
    {
        var ct = TestContext.Current.CancellationToken;
        double charged = await EngineReplicas.MetricAsync(api, "fathom_api_tokens_charged_total");
        double used = await EngineReplicas.MetricAsync(api, "fathom_api_tokens_used_total");
        using var response = await http.PostAsync(path, Json(json), ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        for (int i = 0; i < 50; i++)
        {
            double chargedNow = await EngineReplicas.MetricAsync(api, "fathom_api_tokens_charged_total");
            if (chargedNow != charged)
            {
                return (chargedNow - charged, await EngineReplicas.MetricAsync(api, "fathom_api_tokens_used_total") - used, body);
            }

            await Task.Delay(100, ct);
        }

        throw new Xunit.Sdk.XunitException("the request was never charged");
    }

    private static async Task<int> ContextLengthAsync(ServiceProcess engine)
    {
        using var http = new HttpClient { BaseAddress = engine.BaseAddress };
        var models = await http.GetFromJsonAsync<JsonElement>("/v1/models", TestContext.Current.CancellationToken);
        return models.GetProperty("data")[0].GetProperty("max_model_len").GetInt32();
    }

    [Fact]
    public async Task Each_bypass_is_charged_in_full_up_front()
    {
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A], ("TokensPerMinute", "100000000"));
        using var http = EngineReplicas.Http(api);
        int context = await ContextLengthAsync(replicas.A);

        // No max_tokens: the chat may generate to the end of the context, so it is charged the whole context.
        var (charged, _, _) = await ChargedAsync(api, http, "/v1/chat/completions", ChatBody(""","stop":[" ","."]"""));
        Assert.Equal(context, charged);

        // 4096.0 is 4096 to the engine, so to the charge.
        (charged, _, _) = await ChargedAsync(api, http, "/v1/chat/completions", ChatBody(""","max_tokens":7.0"""));
        Assert.Equal(PromptEstimate + 7, charged);

        // n completions of max_tokens each.
        (charged, _, _) = await ChargedAsync(api, http, "/v1/completions", CompletionBody(""","max_tokens":5,"n":3"""));
        Assert.Equal(PromptEstimate + 5 * 3, charged);
        (charged, _, _) = await ChargedAsync(api, http, "/v1/chat/completions", ChatBody(""","max_completion_tokens":6.0,"n":2.0"""));
        Assert.Equal(PromptEstimate + 6 * 2, charged);

        // Completions without max_tokens generate 16, as OpenAI's and vLLM's.
        (charged, _, _) = await ChargedAsync(api, http, "/v1/completions", CompletionBody(""));
        Assert.Equal(PromptEstimate + 16, charged);
    }

    [Fact]
    public async Task The_charge_settles_to_the_reported_usage_and_unused_budget_comes_back()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A], ("TokensPerMinute", "400"));
        using var http = EngineReplicas.Http(api);
        string stopsEarly = ChatBody(""","max_tokens":250,"stop":[" ",".","e"]""");

        var (charged, used, body) = await ChargedAsync(api, http, "/v1/chat/completions", stopsEarly);
        Assert.Equal(PromptEstimate + 250, charged);
        Assert.Equal(body.GetProperty("usage").GetProperty("total_tokens").GetInt32(), used);
        Assert.True(used < 100, $"the request stopped early, yet used {used}");

        // Without the refund, 254 + 254 would be over the 400 of the window.
        (_, _, _) = await ChargedAsync(api, http, "/v1/chat/completions", stopsEarly);

        // A request that does use its max_tokens keeps the budget spent.
        (_, used, _) = await ChargedAsync(api, http, "/v1/chat/completions", ChatBody(""","max_tokens":250,"ignore_eos":true"""));
        Assert.True(used >= 250, $"used {used}");
        using var refused = await http.PostAsync("/v1/chat/completions", Json(stopsEarly), ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
    }

    [Fact]
    public async Task A_stream_settles_from_a_usage_chunk_its_client_did_not_ask_for_and_never_sees()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A], ("TokensPerMinute", "100000000"));
        using var http = EngineReplicas.Http(api);
        string fixedLength = ChatBody(""","max_tokens":6,"ignore_eos":true""");
        var (_, usedPlain, plain) = await ChargedAsync(api, http, "/v1/chat/completions", fixedLength);
        Assert.Equal(plain.GetProperty("usage").GetProperty("total_tokens").GetInt32(), usedPlain);

        double used = await EngineReplicas.MetricAsync(api, "fathom_api_tokens_used_total");
        string streamed;
        using (var response = await http.PostAsync("/v1/chat/completions", Json(fixedLength[..^1] + ""","stream":true}"""), ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            streamed = await response.Content.ReadAsStringAsync(ct);
        }

        Assert.DoesNotContain("usage", streamed, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", streamed, StringComparison.Ordinal);
        double usedNow = used;
        for (int i = 0; i < 50 && usedNow == used; i++)
        {
            await Task.Delay(100, ct);
            usedNow = await EngineReplicas.MetricAsync(api, "fathom_api_tokens_used_total");
        }

        Assert.Equal(usedPlain, usedNow - used);

        // A client that asks for usage gets it, as sent.
        using var asked = await http.PostAsync("/v1/chat/completions",
            Json(fixedLength[..^1] + ""","stream":true,"stream_options":{"include_usage":true}}"""), ct);
        string withUsage = await asked.Content.ReadAsStringAsync(ct);
        Assert.Contains($"\"total_tokens\":{plain.GetProperty("usage").GetProperty("total_tokens").GetInt32()}", withUsage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Whole_floats_and_fractions_are_read_alike_by_the_api_and_the_engine()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A]);
        using var throughApi = EngineReplicas.Http(api);
        using var direct = new HttpClient { BaseAddress = replicas.A.BaseAddress };

        foreach (var http in new[] { throughApi, direct })
        {
            using var response = await http.PostAsync("/v1/chat/completions", Json(ChatBody(""","max_tokens":7.0,"n":2.0,"ignore_eos":true""")), ct);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
            Assert.Equal(2, body.GetProperty("choices").GetArrayLength());
            Assert.Equal(14, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }

        foreach (string field in new[] { "\"max_tokens\":7.5", "\"n\":1.5", "\"max_tokens\":\"7\"", "\"stream_options\":true" })
        {
            using var fromApi = await throughApi.PostAsync("/v1/chat/completions", Json(ChatBody("," + field)), ct);
            using var fromEngine = await direct.PostAsync("/v1/chat/completions", Json(ChatBody("," + field)), ct);
            Assert.Equal(HttpStatusCode.BadRequest, fromApi.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, fromEngine.StatusCode);
            string apiError = await fromApi.Content.ReadAsStringAsync(ct);
            Assert.Equal(await fromEngine.Content.ReadAsStringAsync(ct), apiError);
            Assert.Contains(field.Split(':')[0], apiError, StringComparison.Ordinal);
        }
    }
}
