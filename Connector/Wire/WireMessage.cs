using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fathom.Connector.Wire;

/// <summary>One chat message as sent in a request.</summary>
internal sealed class WireMessage
{
    [JsonPropertyName("role")]
    public required string Role { get; init; }

    /// <summary>A string, an array of content parts, or null (an assistant turn that only calls tools).</summary>
    [JsonPropertyName("content")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonElement? Content { get; set; }

    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("tool_calls")]
    public List<WireToolCall>? ToolCalls { get; set; }

    [JsonPropertyName("tool_call_id")]
    public string? ToolCallId { get; set; }
}

/// <summary>A tool call, both in an assistant message of a request and in a response message.</summary>
internal sealed class WireToolCall
{
    /// <summary>Position of the call within the message; only present in streamed deltas.</summary>
    [JsonPropertyName("index")]
    public int? Index { get; set; }

    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("function")]
    public WireFunctionCall? Function { get; set; }
}

internal sealed class WireFunctionCall
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    /// <summary>The arguments as a JSON text (OpenAI sends a string, not an object).</summary>
    [JsonPropertyName("arguments")]
    public string? Arguments { get; set; }
}

/// <summary>One part of a multi-part user message.</summary>
internal sealed class WireContentPart
{
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("text")]
    public string? Text { get; init; }

    [JsonPropertyName("image_url")]
    public WireImageUrl? ImageUrl { get; init; }
}

internal sealed class WireImageUrl
{
    [JsonPropertyName("url")]
    public required string Url { get; init; }
}
