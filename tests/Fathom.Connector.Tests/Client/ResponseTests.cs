using System.Text.Json.Nodes;
using Fathom.Connector.Tests.Support;
using Microsoft.Extensions.AI;

namespace Fathom.Connector.Tests.Client;

public sealed class ResponseTests
{
    private static FathomChatClient Client(RecordingHandler handler) =>
        new(new HttpClient(handler), "m", new Uri("http://fathom.test/"));

    [Fact]
    public async Task Text_usage_cached_tokens_and_finish_reason_are_surfaced()
    {
        var handler = new RecordingHandler().RespondJson(
            OpenAiJson.Completion("The answer.", "length", usage: OpenAiJson.Usage(2000, 16, cached: 1984), model: "served-model"));
        using var client = Client(handler);

        var response = await client.GetResponseAsync("q", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("The answer.", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal("served-model", response.ModelId);
        Assert.Equal("chatcmpl-1", response.ResponseId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), response.CreatedAt);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        var usage = response.Usage!;
        Assert.Equal(2000, usage.InputTokenCount);
        Assert.Equal(16, usage.OutputTokenCount);
        Assert.Equal(2016, usage.TotalTokenCount);
        Assert.Equal(1984, usage.CachedInputTokenCount);
        Assert.Equal(1984, usage.AdditionalCounts![FathomChatClient.CachedTokensCountKey]);
    }

    [Theory]
    [InlineData("reasoning_content")]
    [InlineData("reasoning")]
    public async Task Reasoning_is_separate_from_the_answer(string field)
    {
        var json = JsonNode.Parse(OpenAiJson.Completion("Paris."))!;
        json["choices"]![0]!["message"]![field] = "The capital of France is Paris.";
        var handler = new RecordingHandler().RespondJson(json.ToJsonString());
        using var client = Client(handler);

        var response = await client.GetResponseAsync("Capital of France?", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("Paris.", response.Text);
        var contents = Assert.Single(response.Messages).Contents;
        Assert.Equal("The capital of France is Paris.", Assert.Single(contents.OfType<TextReasoningContent>()).Text);
        Assert.Equal("Paris.", Assert.Single(contents.OfType<TextContent>()).Text);
    }

    [Fact]
    public async Task Tool_calls_are_parsed_into_function_call_contents()
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion(
            null,
            "tool_calls",
            toolCalls: [OpenAiJson.ToolCall("call_a", "get_weather", """{"city":"Paris","days":3}"""), OpenAiJson.ToolCall("call_b", "get_time", "")]));
        using var client = Client(handler);

        var response = await client.GetResponseAsync("q", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var calls = response.Messages.Single().Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(["call_a", "call_b"], calls.Select(c => c.CallId));
        Assert.Equal("get_weather", calls[0].Name);
        Assert.Equal("Paris", calls[0].Arguments!["city"]!.ToString());
        Assert.Equal("3", calls[0].Arguments!["days"]!.ToString());
        Assert.Empty(calls[1].Arguments!);
        Assert.Equal(string.Empty, response.Text);
    }

    [Fact]
    public async Task Malformed_tool_arguments_are_kept_as_a_call_error_not_thrown()
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion(
            null, "tool_calls", toolCalls: [OpenAiJson.ToolCall("call_x", "f", "{not json")]));
        using var client = Client(handler);

        var response = await client.GetResponseAsync("q", cancellationToken: TestContext.Current.CancellationToken);

        var call = Assert.Single(response.Messages.Single().Contents.OfType<FunctionCallContent>());
        Assert.NotNull(call.Exception);
    }

    [Fact]
    public async Task A_body_that_is_not_a_completion_is_a_typed_error()
    {
        var handler = new RecordingHandler().RespondJson("<html>proxy</html>");
        using var client = Client(handler);

        await Assert.ThrowsAsync<FathomApiException>(() => client.GetResponseAsync("q", cancellationToken: TestContext.Current.CancellationToken));
    }
}
