using System.ComponentModel;
using System.Text.Json.Nodes;
using Fathom.Connector.Tests.Support;
using Microsoft.Extensions.AI;

namespace Fathom.Connector.Tests.Client;

public sealed class RequestShapeTests
{
    private static readonly Uri Endpoint = new("http://fathom.test:5080");

    [Fact]
    public async Task Every_mapped_option_reaches_the_request_json()
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion("ok"));
        using var client = new FathomChatClient(new HttpClient(handler), "base-model", Endpoint, apiKey: "sk-test");
        var options = new ChatOptions
        {
            ModelId = "override-model",
            Temperature = 0.25f,
            TopP = 0.9f,
            TopK = 40,
            MaxOutputTokens = 64,
            StopSequences = ["\n\n", "END"],
            Seed = 1234,
            FrequencyPenalty = 0.5f,
            PresencePenalty = -0.5f,
            ResponseFormat = ChatResponseFormat.Json,
            AdditionalProperties = new() { ["min_p"] = 0.05f, ["repetition_penalty"] = 1.1, ["logit_bias"] = new Dictionary<string, int> { ["42"] = -100 } },
        };

        await client.GetResponseAsync("hi", options, TestContext.Current.CancellationToken);

        var request = handler.LastRequest;
        var body = request.Body!;
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("Bearer sk-test", request.Authorization);
        Assert.StartsWith("application/json", request.ContentType);
        Assert.Equal("override-model", (string?)body["model"]);
        Assert.Equal(0.25, (double)body["temperature"]!, 6);
        Assert.Equal(0.9, (double)body["top_p"]!, 6);
        Assert.Equal(40, (int)body["top_k"]!);
        Assert.Equal(64, (int)body["max_tokens"]!);
        Assert.Equal(["\n\n", "END"], body["stop"]!.AsArray().Select(s => (string)s!));
        Assert.Equal(1234, (long)body["seed"]!);
        Assert.Equal(0.5, (double)body["frequency_penalty"]!, 6);
        Assert.Equal(-0.5, (double)body["presence_penalty"]!, 6);
        Assert.Equal("json_object", (string?)body["response_format"]!["type"]);
        Assert.Equal(0.05, (double)body["min_p"]!, 6);
        Assert.Equal(1.1, (double)body["repetition_penalty"]!, 6);
        Assert.Equal(-100, (int)body["logit_bias"]!["42"]!);
        Assert.Null(body["stream"]);
        Assert.Null(body["tools"]);
    }

    [Fact]
    public async Task Typed_fields_given_as_additional_properties_are_written_once()
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion("ok"));
        using var client = new FathomChatClient(new HttpClient(handler), "m", Endpoint);
        var options = new ChatOptions
        {
            TopP = 0.5f,
            AdditionalProperties = new() { ["top_k"] = 12, ["top_p"] = 0.9, ["max_tokens"] = "5", ["model"] = "sneaky", ["not_data"] = typeof(string) },
        };

        await client.GetResponseAsync("hi", options, TestContext.Current.CancellationToken);

        var request = handler.LastRequest;
        Assert.Equal(12, (int)request.Body!["top_k"]!);
        Assert.Equal(0.5, (double)request.Body!["top_p"]!, 6);
        Assert.Equal(5, (int)request.Body!["max_tokens"]!);
        Assert.Equal("m", (string?)request.Body!["model"]);
        Assert.Null(request.Body!["not_data"]);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(request.RawBody!, "\"top_k\""));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(request.RawBody!, "\"top_p\""));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(request.RawBody!, "\"model\""));
    }

    [Fact]
    public async Task Without_options_only_model_and_messages_are_sent()
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion("ok"));
        using var client = new FathomChatClient(new HttpClient(handler), "m", Endpoint);

        await client.GetResponseAsync("hello", cancellationToken: TestContext.Current.CancellationToken);

        var body = handler.LastRequest.Body!;
        Assert.Equal(["messages", "model"], body.Select(p => p.Key).Order());
        Assert.Null(handler.LastRequest.Authorization);
        var message = Assert.Single(body["messages"]!.AsArray())!;
        Assert.Equal("user", (string?)message["role"]);
        Assert.Equal("hello", (string?)message["content"]);
    }

    [Fact]
    public async Task Json_schema_response_format_is_sent_with_name_and_schema()
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion("{}"));
        using var client = new FathomChatClient(new HttpClient(handler), "m", Endpoint);
        var schema = System.Text.Json.JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""").RootElement;

        await client.GetResponseAsync("x", new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "place", "A place") }, TestContext.Current.CancellationToken);

        var format = handler.LastRequest.Body!["response_format"]!;
        Assert.Equal("json_schema", (string?)format["type"]);
        Assert.Equal("place", (string?)format["json_schema"]!["name"]);
        Assert.Equal("A place", (string?)format["json_schema"]!["description"]);
        Assert.Equal("string", (string?)format["json_schema"]!["schema"]!["properties"]!["city"]!["type"]);
    }

    [Description("Gets the weather")]
    private static string GetWeather([Description("The city")] string city, int days) => $"{city}:{days}";

    [Theory]
    [InlineData("auto", "\"auto\"")]
    [InlineData("none", "\"none\"")]
    [InlineData("required", "\"required\"")]
    [InlineData("specific", """{"type":"function","function":{"name":"get_weather"}}""")]
    public async Task Tools_and_tool_choice_are_sent_in_openai_format(string mode, string expectedChoice)
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion("ok"));
        using var client = new FathomChatClient(new HttpClient(handler), "m", Endpoint);
        var tool = AIFunctionFactory.Create(GetWeather, "get_weather");
        var options = new ChatOptions
        {
            Tools = [tool],
            AllowMultipleToolCalls = false,
            ToolMode = mode switch
            {
                "auto" => ChatToolMode.Auto,
                "none" => ChatToolMode.None,
                "required" => ChatToolMode.RequireAny,
                _ => ChatToolMode.RequireSpecific("get_weather"),
            },
        };

        await client.GetResponseAsync("weather?", options, TestContext.Current.CancellationToken);

        var body = handler.LastRequest.Body!;
        var function = Assert.Single(body["tools"]!.AsArray())!;
        Assert.Equal("function", (string?)function["type"]);
        Assert.Equal("get_weather", (string?)function["function"]!["name"]);
        Assert.Equal("Gets the weather", (string?)function["function"]!["description"]);
        var parameters = function["function"]!["parameters"]!;
        Assert.Equal("object", (string?)parameters["type"]);
        Assert.Equal("string", (string?)parameters["properties"]!["city"]!["type"]);
        Assert.Equal("The city", (string?)parameters["properties"]!["city"]!["description"]);
        Assert.Equal("integer", (string?)parameters["properties"]!["days"]!["type"]);
        Assert.Equal(JsonNode.Parse(expectedChoice)!.ToJsonString(), body["tool_choice"]!.ToJsonString());
        Assert.False((bool)body["parallel_tool_calls"]!);
    }

    [Fact]
    public async Task History_with_tool_calls_results_and_reasoning_maps_to_openai_messages()
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion("done"));
        using var client = new FathomChatClient(new HttpClient(handler), "m", Endpoint);
        List<ChatMessage> history =
        [
            new(ChatRole.System, "Be brief."),
            new(ChatRole.User, "Weather in Paris and Oslo?"),
            new(ChatRole.Assistant,
            [
                new TextReasoningContent("I should call the tool twice."),
                new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }),
                new FunctionCallContent("call_2", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo", ["days"] = 2 }),
            ]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", "sunny"), new FunctionResultContent("call_2", new { temp = -3 })]),
            new(ChatRole.Assistant, [new TextReasoningContent("thinking"), new TextContent("Paris sunny, Oslo cold.")]),
            new(ChatRole.User, "Thanks"),
        ];

        await client.GetResponseAsync(history, new ChatOptions { Instructions = "You are Fathom." }, TestContext.Current.CancellationToken);

        var messages = handler.LastRequest.Body!["messages"]!.AsArray();
        Assert.Equal(["system", "system", "user", "assistant", "tool", "tool", "assistant", "user"], messages.Select(m => (string)m!["role"]!));
        Assert.Equal("You are Fathom.", (string?)messages[0]!["content"]);
        var assistant = messages[3]!;
        Assert.Null(assistant["content"]);
        var calls = assistant["tool_calls"]!.AsArray();
        Assert.Equal("call_1", (string?)calls[0]!["id"]);
        Assert.Equal("function", (string?)calls[0]!["type"]);
        Assert.Equal("get_weather", (string?)calls[0]!["function"]!["name"]);
        Assert.Equal("Paris", (string?)JsonNode.Parse((string)calls[0]!["function"]!["arguments"]!)!["city"]);
        Assert.Equal(2, (int)JsonNode.Parse((string)calls[1]!["function"]!["arguments"]!)!["days"]!);
        Assert.Equal("call_1", (string?)messages[4]!["tool_call_id"]);
        Assert.Equal("sunny", (string?)messages[4]!["content"]);
        Assert.Equal("call_2", (string?)messages[5]!["tool_call_id"]);
        Assert.Equal(-3, (int)JsonNode.Parse((string)messages[5]!["content"]!)!["temp"]!);

        // Earlier reasoning is not sent back to the model.
        Assert.Equal("Paris sunny, Oslo cold.", (string?)messages[6]!["content"]);
        Assert.DoesNotContain("thinking", handler.LastRequest.Body!.ToJsonString());
    }

    [Fact]
    public async Task Streaming_request_asks_for_sse_and_usage()
    {
        var handler = new RecordingHandler().RespondSse(OpenAiJson.Sse([OpenAiJson.Chunk(new JsonObject { ["content"] = "x" }, "stop")]));
        using var client = new FathomChatClient(new HttpClient(handler), "m", Endpoint);

        await foreach (var _ in client.GetStreamingResponseAsync("hi", cancellationToken: TestContext.Current.CancellationToken))
        {
        }

        var request = handler.LastRequest;
        Assert.Equal("text/event-stream", request.Accept);
        Assert.True((bool)request.Body!["stream"]!);
        Assert.True((bool)request.Body!["stream_options"]!["include_usage"]!);
    }
}
