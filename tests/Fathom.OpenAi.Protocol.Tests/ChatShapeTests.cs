namespace Fathom.OpenAi.Protocol.Tests;

/// <summary>
/// Chat completions and chunks, byte for byte as /v1/chat/completions writes them by hand today (captured from
/// stories260K where it can produce them; the reasoning and tool-call shapes as ChatCompletionsEndpoint writes them).
/// </summary>
public sealed class ChatShapeTests
{
    private static readonly ChatLogprobs OneToken = new()
    {
        Content = [new ChatTokenLogprob { Token = "re", Logprob = -2.0729623f, Bytes = [114, 101], TopLogprobs = [new ChatTopLogprob { Token = "re", Logprob = -2.0729623f, Bytes = [114, 101] }] }],
    };

    private static string Json(ChatCompletionChunk chunk) => Wire.Json(chunk, OpenAiJsonContext.Wire.ChatCompletionChunk);

    [Fact]
    public void The_opening_chunk_carries_the_role_and_empty_content()
    {
        Assert.Equal(
            """{"id":"ID","object":"chat.completion.chunk","created":0,"model":"stories260K","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}""",
            Json(ChatCompletionChunk.Opening("ID", 0, "stories260K", 0, includeUsage: true)));
        Assert.Equal(
            """{"id":"ID","object":"chat.completion.chunk","created":0,"model":"stories260K","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""",
            Json(ChatCompletionChunk.Opening("ID", 0, "stories260K", 0, includeUsage: false)));
    }

    [Fact]
    public void A_content_chunk_with_logprobs()
    {
        Assert.Equal(
            """{"id":"ID","object":"chat.completion.chunk","created":0,"model":"stories260K","choices":[{"index":0,"delta":{"content":"re"},"logprobs":{"content":[{"token":"re","logprob":-2.0729623,"bytes":[114,101],"top_logprobs":[{"token":"re","logprob":-2.0729623,"bytes":[114,101]}]}]},"finish_reason":null}],"usage":null}""",
            Json(ChatCompletionChunk.Delta("ID", 0, "stories260K", 0, ChatDelta.Of("re"), OneToken, finishReason: null, calledTools: false, includeUsage: true)));
    }

    [Fact]
    public void A_last_chunk_with_nothing_new_has_an_empty_delta()
    {
        Assert.Equal(
            """{"id":"ID","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}""",
            Json(ChatCompletionChunk.Delta("ID", 0, "m", 0, ChatDelta.Of(""), null, FinishReasons.Stop, calledTools: false, includeUsage: false)));
    }

    [Fact]
    public void Reasoning_and_tool_call_deltas_and_a_finish_after_calls()
    {
        var delta = ChatDelta.Of("", "<think> hmm", [ToolCall.Of("call_1", "get_weather", """{"city":"Paris"}""", index: 2)]);

        Assert.Equal(
            """{"id":"ID","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":1,"delta":{"reasoning_content":"<think> hmm","tool_calls":[{"index":2,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}]}""",
            Json(ChatCompletionChunk.Delta("ID", 0, "m", 1, delta, null, FinishReasons.Length, calledTools: true, includeUsage: false)));
    }

    [Fact]
    public void The_usage_chunk_has_no_choices()
    {
        Assert.Equal(
            """{"id":"ID","object":"chat.completion.chunk","created":0,"model":"stories260K","choices":[],"usage":{"prompt_tokens":42,"completion_tokens":6,"total_tokens":48,"prompt_tokens_details":{"cached_tokens":16}}}""",
            Json(ChatCompletionChunk.ForUsage("ID", 0, "stories260K", Usage.Of(42, 6, 16))));
    }

    [Fact]
    public void A_response_with_only_tool_calls_writes_content_null_and_finishes_with_tool_calls()
    {
        var response = new ChatCompletionResponse
        {
            Id = "ID",
            Created = 0,
            Model = "m",
            Choices = [ChatChoice.Create(0, "", "why", [ToolCall.Of("call_1", "f", "{}")], null, FinishReasons.Stop)],
            Usage = Usage.Of(3, 4, 0),
        };

        Assert.Equal(
            """{"id":"ID","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"why","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0}}}""",
            Wire.Json(response, OpenAiJsonContext.Wire.ChatCompletionResponse));
    }

    [Fact]
    public void A_response_without_tool_calls_writes_missing_content_as_empty_and_keeps_html_readable()
    {
        var choice = ChatChoice.Create(0, null, "<think> & \"q\"", toolCalls: [], logprobs: null, FinishReasons.Length);

        Assert.Equal(
            """{"index":0,"message":{"role":"assistant","content":"","reasoning_content":"<think> & \"q\""},"logprobs":null,"finish_reason":"length"}""",
            Wire.Json(choice, OpenAiJsonContext.Wire.ChatChoice));
    }
}
