using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// The assistant's message in a non-streaming chat completion: <c>{"role","content","reasoning_content"?,"tool_calls"?}</c>.
/// <c>content</c> is always written, <c>null</c> when the answer is only tool calls.
/// </summary>
public sealed record ChatMessage
{
    /// <summary>Always <c>assistant</c>.</summary>
    [JsonPropertyName("role")]
    public string Role { get; init; } = "assistant";

    /// <summary>The answer's text; null (written as <c>null</c>) when it is only tool calls.</summary>
    [JsonPropertyName("content")]
    public string? Content { get; init; }

    /// <summary>The reasoning (DeepSeek-R1's <c>&lt;think&gt;</c> part, vLLM's field); omitted when the model has none.</summary>
    [JsonPropertyName("reasoning_content")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReasoningContent { get; init; }

    /// <summary>The tool calls; omitted when there are none.</summary>
    [JsonPropertyName("tool_calls")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }
}
