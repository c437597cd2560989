using Fathom.Testing;
using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenAI.Chat;

namespace Fathom.Api.Tests.Gateway;

// One collection: the tests share two engine replicas and measure routing and limits on them, one at a time.
[Collection(nameof(EngineReplicas))]
public sealed class AuthAndLimitsTests(EngineReplicas replicas)
{
    [Fact]
    public async Task Missing_and_wrong_keys_get_openai_401s_and_the_right_key_completes_through_the_official_client()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A, replicas.B]);

        foreach (string? key in new[] { null, "sk-wrong" })
        {
            using var http = EngineReplicas.Http(api, key);
            using var response = await http.PostAsJsonAsync("/v1/chat/completions",
                new { model = SharedFixtures.Stories260KName, messages = new[] { new { role = "user", content = "Once" } } }, ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error");
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        }

        var wrong = Assert.Throws<ClientResultException>(() =>
            EngineReplicas.Chat(api, "sk-wrong").CompleteChat([new UserChatMessage("Once upon a time")], cancellationToken: ct));
        Assert.Equal(401, wrong.Status);

        ChatCompletion completion = await EngineReplicas.Chat(api).CompleteChatAsync(
            [new UserChatMessage("Once upon a time")], new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 }, ct);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal(8, completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Requests_over_the_per_key_limit_get_429_with_retry_after_and_pass_again_after_the_window()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A], ("RequestsPerMinute", "3"), ("RateWindow", "00:00:03"));
        using var http = EngineReplicas.Http(api);

        for (int i = 0; i < 3; i++)
        {
            using var ok = await http.GetAsync("/v1/models", ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var limited = await http.GetAsync("/v1/models", ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("rate_limit_exceeded", (await limited.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error").GetProperty("code").GetString());
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 3);

        // Probes are not the key's traffic.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);

        await Task.Delay(retryAfter.Value + TimeSpan.FromMilliseconds(200), ct);
        using var again = await http.GetAsync("/v1/models", ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Tokens_per_window_and_request_size_are_limited()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A], ("TokensPerMinute", "40"), ("MaxRequestBytes", "2000"));
        using var http = EngineReplicas.Http(api);
        // ignore_eos: each request uses its max_tokens, so the charge settles to at least that much.
        object Body(int maxTokens) => new { model = SharedFixtures.Stories260KName, max_tokens = maxTokens, ignore_eos = true, messages = new[] { new { role = "user", content = "Once" } } };

        using (var first = await http.PostAsJsonAsync("/v1/chat/completions", Body(30), ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var second = await http.PostAsJsonAsync("/v1/chat/completions", Body(30), ct))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
            Assert.NotNull(second.Headers.RetryAfter);
        }

        using var tooLarge = await http.PostAsJsonAsync("/v1/chat/completions",
            new { model = SharedFixtures.Stories260KName, messages = new[] { new { role = "user", content = new string('x', 5000) } } }, ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
    }

    [Fact]
    public async Task A_whole_float_max_tokens_is_charged_in_full_as_the_engine_reads_it()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A], ("TokensPerMinute", "40"));
        using var http = EngineReplicas.Http(api);
        HttpContent Body(string maxTokens) => new StringContent(
            $$"""{"model":"{{SharedFixtures.Stories260KName}}","max_tokens":{{maxTokens}},"ignore_eos":true,"messages":[{"role":"user","content":"Once"}]}""",
            System.Text.Encoding.UTF8, "application/json");

        using (var first = await http.PostAsync("/v1/chat/completions", Body("40.0"), ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // 40.0 took the whole budget; read as "no max_tokens" (16) it would have left room for this one.
        using var second = await http.PostAsync("/v1/chat/completions", Body("1"), ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
    }
}
