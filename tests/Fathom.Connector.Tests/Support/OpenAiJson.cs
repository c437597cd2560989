using System.Text.Json.Nodes;

namespace Fathom.Connector.Tests.Support;

/// <summary>Builds OpenAI-shaped response bodies (written independently of the connector's wire types).</summary>
internal static class OpenAiJson
{
    public static string Completion(
        string? content,
        string finishReason = "stop",
        string? reasoning = null,
        JsonArray? toolCalls = null,
        JsonObject? usage = null,
        string model = "test-model")
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = content };
        if (reasoning is not null)
        {
            message["reasoning_content"] = reasoning;
        }

        if (toolCalls is not null)
        {
            message["tool_calls"] = toolCalls;
        }

        return new JsonObject
        {
            ["id"] = "chatcmpl-1",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["finish_reason"] = finishReason,
            }),
            ["usage"] = usage ?? Usage(5, 7),
        }.ToJsonString();
    }

    public static JsonObject Usage(int prompt, int completion, int? cached = null)
    {
        var usage = new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completion,
            ["total_tokens"] = prompt + completion,
        };
        if (cached is not null)
        {
            usage["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cached };
        }

        return usage;
    }

    public static JsonObject ToolCall(string id, string name, string arguments) => new()
    {
        ["id"] = id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
    };

    /// <summary>One <c>chat.completion.chunk</c> with the given delta.</summary>
    public static string Chunk(JsonObject delta, string? finishReason = null, string model = "test-model") => new JsonObject
    {
        ["id"] = "chatcmpl-s",
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_700_000_000,
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["finish_reason"] = finishReason,
        }),
    }.ToJsonString();

    public static string UsageChunk(JsonObject usage) => new JsonObject
    {
        ["id"] = "chatcmpl-s",
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_700_000_000,
        ["model"] = "test-model",
        ["choices"] = new JsonArray(),
        ["usage"] = usage,
    }.ToJsonString();

    /// <summary>Frames JSON payloads as SSE <c>data:</c> events, ending with <c>[DONE]</c>.</summary>
    public static string Sse(IEnumerable<string> payloads, bool done = true, string newline = "\n")
    {
        var text = string.Concat(payloads.Select(p => $"data: {p}{newline}{newline}"));
        return done ? text + $"data: [DONE]{newline}{newline}" : text;
    }
}
