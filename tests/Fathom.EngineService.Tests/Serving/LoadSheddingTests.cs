using System.Net;
using Fathom.EngineService.Tests.OpenAi;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>Cancellation returns KV blocks; a full queue answers 429 with Retry-After. Sequential: they share one small engine.</summary>
public sealed class LoadSheddingTests(LimitedEngineFixture fixture) : IClassFixture<LimitedEngineFixture>
{
    private const string KvUsage = "fathom_engine_kv_cache_usage_ratio";
    private const string Running = "fathom_engine_requests_running";
    private const string Generated = "fathom_engine_generation_tokens_total";

    [Fact]
    public async Task A_client_that_disconnects_cancels_its_sequence_and_frees_its_blocks()
    {
        var engine = fixture.Require();
        double before = await engine.MetricAsync(Generated) ?? 0;
        using (var response = await StartStreamAsync(engine.Http, maxTokens: 1800))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
            for (int events = 0; events < 4;)
            {
                if ((await reader.ReadLineAsync(TestContext.Current.CancellationToken))?.StartsWith("data: ", StringComparison.Ordinal) == true)
                {
                    events++;
                }
            }

            // (the exporter may answer a scrape from its short cache, so poll)
            await WaitUntilAsync(async () => await engine.MetricAsync(KvUsage) > 0);
        } // disposing the response closes the connection

        await WaitUntilAsync(async () => await engine.MetricAsync(KvUsage) == 0 && await engine.MetricAsync(Running) == 0);
        double? generated = await engine.MetricAsync(Generated);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal(generated, await engine.MetricAsync(Generated)); // nothing is generated for it any more
        Assert.True(generated - before < 1800, $"{generated - before} tokens: the request ran to the end instead of being cancelled");
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_retry_after()
    {
        var engine = fixture.Require();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => StartStreamAsync(engine.Http, maxTokens: 400)));
        try
        {
            var rejected = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.NotEmpty(rejected);
            Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
            Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, r.StatusCode.ToString()));
            Assert.True(rejected[0].Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            var error = await ErrorTests.ErrorOf(rejected[0], HttpStatusCode.TooManyRequests);
            Assert.Equal("rate_limit_exceeded", error.GetProperty("type").GetString());
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        await WaitUntilAsync(async () => await engine.MetricAsync(KvUsage) == 0);
    }

    private static async Task<HttpResponseMessage> StartStreamAsync(HttpClient http, int maxTokens)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = CompletionsTests.JsonContent(new { prompt = "Once upon a time", max_tokens = maxTokens, temperature = 0.8, ignore_eos = true, stream = true }),
        };
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail("the condition did not hold within 10 s");
    }
}
