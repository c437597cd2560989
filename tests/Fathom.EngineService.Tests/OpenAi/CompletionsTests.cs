using Fathom.Testing;
using System.Text.Json;

namespace Fathom.EngineService.Tests.OpenAi;

/// <summary>/v1/completions and /v1/models over plain HTTP (the OpenAI .NET client has no legacy completions).</summary>
public sealed class CompletionsTests(EngineServiceFixture fixture)
{
    [Fact]
    public async Task Greedy_completion_continues_the_story_as_llama_cpp_does()
    {
        var (status, body) = await fixture.Require().PostAsync("/v1/completions",
            new { model = SharedFixtures.Stories260KName, prompt = "Once upon a time", max_tokens = 12, temperature = 0 });

        Assert.Equal(200, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        var choice = body.GetProperty("choices")[0];
        // llama.cpp's greedy continuation of this prompt (shared/README.md).
        Assert.StartsWith(", there was a little girl named Lily.", choice.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        var usage = body.GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(17, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Token_id_prompts_equal_text_prompts()
    {
        var (_, text) = await fixture.Require().PostAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        var (status, ids) = await fixture.PostAsync("/v1/completions", new { prompt = new[] { 1, 403, 407, 261, 378 }, max_tokens = 8, temperature = 0 });

        Assert.Equal(200, status);
        Assert.Equal(Text(text, 0), Text(ids, 0));
    }

    [Fact]
    public async Task N_two_returns_two_choices_sharing_the_prompt_and_usage_counts_both()
    {
        var (status, body) = await fixture.Require().PostAsync("/v1/completions",
            new { prompt = "Once upon a time", max_tokens = 10, temperature = 1.0, seed = 3, n = 2, ignore_eos = true });

        Assert.Equal(200, status);
        var choices = body.GetProperty("choices");
        Assert.Equal(2, choices.GetArrayLength());
        Assert.Equal([0, 1], choices.EnumerateArray().Select(c => c.GetProperty("index").GetInt32()));
        Assert.NotEqual(Text(body, 0), Text(body, 1)); // each completion draws from its own stream
        Assert.Equal(20, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(5, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task vLLM_extras_shape_sampling()
    {
        // top_k = 1 is greedy whatever the temperature.
        var (_, greedy) = await fixture.Require().PostAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 10, temperature = 0 });
        var (status, topK) = await fixture.PostAsync("/v1/completions",
            new { prompt = "Once upon a time", max_tokens = 10, temperature = 1.5, top_k = 1, min_p = 0.1, repetition_penalty = 1.0, seed = 11 });

        Assert.Equal(200, status);
        Assert.Equal(Text(greedy, 0), Text(topK, 0));
    }

    [Fact]
    public async Task Completion_logprobs_list_tokens_offsets_and_alternatives()
    {
        var (status, body) = await fixture.Require().PostAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 6, temperature = 0, logprobs = 2 });

        Assert.Equal(200, status);
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs");
        var tokens = logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(6, tokens.Count);
        Assert.Equal(Text(body, 0), string.Concat(tokens));
        Assert.All(logprobs.GetProperty("token_logprobs").EnumerateArray(), l => Assert.True(l.GetDouble() <= 0));
        Assert.All(logprobs.GetProperty("top_logprobs").EnumerateArray(), t => Assert.Equal(2, t.EnumerateObject().Count()));
        Assert.Equal(0, logprobs.GetProperty("text_offset")[0].GetInt32());
    }

    [Fact]
    public async Task Streaming_completions_end_with_usage_and_done()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent(new { prompt = "Once upon a time", max_tokens = 12, temperature = 0, stream = true, stream_options = new { include_usage = true } }),
        };
        using var response = await fixture.Require().Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        string sse = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).ToList();
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        var (_, whole) = await fixture.PostAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 12, temperature = 0 });
        string text = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).Select(c => c.GetProperty("text").GetString()));
        Assert.Equal(Text(whole, 0), text);
        Assert.Equal(12, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Models_lists_the_served_model()
    {
        var json = await fixture.Require().Http.GetStringAsync("/v1/models", TestContext.Current.CancellationToken);
        var data = JsonDocument.Parse(json).RootElement.GetProperty("data");

        Assert.Equal(SharedFixtures.Stories260KName, Assert.Single(data.EnumerateArray()).GetProperty("id").GetString());
    }

    internal static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");

    private static string? Text(JsonElement body, int index) => body.GetProperty("choices")[index].GetProperty("text").GetString();
}
