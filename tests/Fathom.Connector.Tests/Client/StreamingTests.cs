using System.Text;
using System.Text.Json.Nodes;
using Fathom.Connector.Tests.Support;
using Microsoft.Extensions.AI;

namespace Fathom.Connector.Tests.Client;

public sealed class StreamingTests
{
    // Two-, three- and four-byte UTF-8 characters, so the 1–7 byte reads split characters as well as lines.
    private static readonly string[] Pieces = ["Hé", "llo, wö", "rld — 日本", "語 🙂", " done."];

    private static FathomChatClient Client(RecordingHandler handler) =>
        new(new HttpClient(handler), "m", new Uri("http://fathom.test/v1"));

    private static async Task<List<ChatResponseUpdate>> CollectAsync(FathomChatClient client, string prompt = "hi")
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(prompt, cancellationToken: TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        return updates;
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public async Task Text_split_mid_line_and_mid_character_is_reassembled(string newline)
    {
        List<string> payloads = [OpenAiJson.Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" })];
        payloads.AddRange(Pieces.Select(p => OpenAiJson.Chunk(new JsonObject { ["content"] = p })));
        payloads.Add(OpenAiJson.Chunk(new JsonObject(), "stop"));
        payloads.Add(OpenAiJson.UsageChunk(OpenAiJson.Usage(9, 5, cached: 8)));
        var sse = ": keep-alive" + newline + newline + OpenAiJson.Sse(payloads, newline: newline);
        var handler = new RecordingHandler().RespondSse(sse);
        using var client = Client(handler);

        var updates = await CollectAsync(client);

        Assert.Equal(string.Concat(Pieces), string.Concat(updates.Select(u => u.Text)));
        Assert.Contains(updates, u => u.FinishReason == ChatFinishReason.Stop);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(9, usage.InputTokenCount);
        Assert.Equal(5, usage.OutputTokenCount);
        Assert.Equal(8, usage.AdditionalCounts![FathomChatClient.CachedTokensCountKey]);

        var response = updates.ToChatResponse();
        Assert.Equal(string.Concat(Pieces), response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(14, response.Usage!.TotalTokenCount);
        Assert.True(Encoding.UTF8.GetByteCount(sse) > 200, "the stream must be long enough to be split many times");
    }

    [Fact]
    public async Task Streamed_reasoning_deltas_stay_out_of_the_answer()
    {
        string[] reasoning = ["The user ", "wants a ", "greeting."];
        List<string> payloads = [.. reasoning.Select(r => OpenAiJson.Chunk(new JsonObject { ["reasoning_content"] = r }))];
        payloads.Add(OpenAiJson.Chunk(new JsonObject { ["content"] = "Hello" }));
        payloads.Add(OpenAiJson.Chunk(new JsonObject { ["content"] = "!" }, "stop"));
        var handler = new RecordingHandler().RespondSse(OpenAiJson.Sse(payloads));
        using var client = Client(handler);

        var updates = await CollectAsync(client);

        Assert.Equal("Hello!", string.Concat(updates.Select(u => u.Text)));
        var thoughts = updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text);
        Assert.Equal(string.Concat(reasoning), string.Concat(thoughts));
        var response = updates.ToChatResponse();
        Assert.Equal("Hello!", response.Text);
    }

    [Fact]
    public async Task Interleaved_tool_call_deltas_are_assembled_by_index()
    {
        static JsonObject Delta(int index, string? id, string? name, string args)
        {
            var function = new JsonObject { ["arguments"] = args };
            if (name is not null)
            {
                function["name"] = name;
            }

            var call = new JsonObject { ["index"] = index, ["function"] = function };
            if (id is not null)
            {
                call["id"] = id;
                call["type"] = "function";
            }

            return new JsonObject { ["tool_calls"] = new JsonArray(call) };
        }

        List<string> payloads =
        [
            OpenAiJson.Chunk(Delta(0, "call_p", "get_weather", "")),
            OpenAiJson.Chunk(Delta(1, "call_o", "get_weather", "{\"ci")),
            OpenAiJson.Chunk(Delta(0, null, null, "{\"city\":")),
            OpenAiJson.Chunk(Delta(1, null, null, "ty\":\"Oslo\"}")),
            OpenAiJson.Chunk(Delta(0, null, null, "\"Paris\"}")),
            OpenAiJson.Chunk(new JsonObject(), "tool_calls"),
        ];
        var handler = new RecordingHandler().RespondSse(OpenAiJson.Sse(payloads));
        using var client = Client(handler);

        var updates = await CollectAsync(client);

        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal(("call_p", "get_weather", "Paris"), (calls[0].CallId, calls[0].Name, calls[0].Arguments!["city"]!.ToString()));
        Assert.Equal(("call_o", "get_weather", "Oslo"), (calls[1].CallId, calls[1].Name, calls[1].Arguments!["city"]!.ToString()));
        Assert.Equal(ChatFinishReason.ToolCalls, updates.ToChatResponse().FinishReason);
    }

    [Fact]
    public async Task Tool_calls_still_arrive_when_the_stream_ends_without_finish_reason_or_done()
    {
        var delta = new JsonObject
        {
            ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["id"] = "call_z",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = "{}" },
            }),
        };
        var handler = new RecordingHandler().RespondSse(OpenAiJson.Sse([OpenAiJson.Chunk(delta)], done: false));
        using var client = Client(handler);

        var updates = await CollectAsync(client);

        Assert.Equal("call_z", Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>()).CallId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Error_event_mid_stream_throws_after_the_text_before_it(bool namedEvent)
    {
        var error = """{"error":{"message":"engine out of KV blocks","type":"server_error","param":null,"code":503}}""";
        var sse = $"data: {OpenAiJson.Chunk(new JsonObject { ["content"] = "partial" })}\n\n"
            + (namedEvent ? $"event: error\ndata: {error}\n\n" : $"data: {error}\n\n")
            + "data: [DONE]\n\n";
        var handler = new RecordingHandler().RespondSse(sse);
        using var client = Client(handler);
        var seen = new StringBuilder();

        var ex = await Assert.ThrowsAsync<FathomApiException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("hi", cancellationToken: TestContext.Current.CancellationToken))
            {
                seen.Append(update.Text);
            }
        });

        Assert.Equal("partial", seen.ToString());
        Assert.Equal("engine out of KV blocks", ex.Message);
        Assert.Equal("server_error", ex.ErrorType);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ex.StatusCode);
    }

    [Fact]
    public async Task Malformed_event_data_is_a_typed_error()
    {
        var handler = new RecordingHandler().RespondSse("data: {\"choices\": [\n\n");
        using var client = Client(handler);

        await Assert.ThrowsAsync<FathomApiException>(() => CollectAsync(client));
    }
}
