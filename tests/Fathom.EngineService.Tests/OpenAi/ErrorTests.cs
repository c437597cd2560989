using Fathom.Testing;
using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;

namespace Fathom.EngineService.Tests.OpenAi;

/// <summary>Every class of bad input gets OpenAI's error shape and a 4xx, never a 500.</summary>
public sealed class ErrorTests(EngineServiceFixture fixture)
{
    public static TheoryData<string, string, string?> BadBodies => new()
    {
        { "/v1/chat/completions", "{\"messages\": [", null },
        { "/v1/chat/completions", "[1, 2]", null },
        { "/v1/chat/completions", "{\"messages\": []}", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": -1}", "temperature" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"hot\"}", "temperature" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_p\": 0}", "top_p" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 0}", "n" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}", "max_tokens" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_logprobs\": 3}", "top_logprobs" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logit_bias\": {\"99999\": 5}}", "logit_bias" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 1000000}", "max_tokens" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"stop\": 5}", "stop" },
        { "/v1/completions", "{\"prompt\": [1, -3]}", "prompt" },
        { "/v1/completions", "{\"max_tokens\": 3}", "prompt" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"logprobs\": 50}", "logprobs" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_input_is_a_400_in_OpenAI_shape(string path, string body, string? param)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await fixture.Require().Http.PostAsync(path, content, TestContext.Current.CancellationToken);

        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Invalid_UTF8_is_a_400()
    {
        byte[] body = [.. "{\"prompt\": \""u8, 0xC3, 0x28, .. "\"}"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await fixture.Require().Http.PostAsync("/v1/completions", content, TestContext.Current.CancellationToken);

        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Contains("UTF-8", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_prompt_beyond_the_context_is_a_400_context_length_exceeded()
    {
        string huge = string.Concat(Enumerable.Repeat("cat dog ", 3000));
        using var content = CompletionsTests.JsonContent(new { prompt = huge, max_tokens = 4 });
        using var response = await fixture.Require().Http.PostAsync("/v1/completions", content, TestContext.Current.CancellationToken);

        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_through_the_OpenAI_client()
    {
        var chat = new ChatClient("no-such-model", new ApiKeyCredential("unused"),
            new OpenAI.OpenAIClientOptions { Endpoint = new Uri(fixture.Require().Service.BaseAddress, "v1") });

        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            chat.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(404, error.Status);
        Assert.Contains("no-such-model", error.Message, StringComparison.Ordinal);
    }

    internal static async Task<JsonElement> ErrorOf(HttpResponseMessage response, HttpStatusCode expected)
    {
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        return error;
    }
}
