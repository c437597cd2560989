using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// What a stream chunk adds to a chat choice: <c>{"role"?,"reasoning_content"?,"content"?,"tool_calls"?}</c>, every
/// field omitted when null. The first chunk of a choice carries <c>"role":"assistant","content":""</c>.
/// </summary>
public sealed record ChatDelta
{
    /// <summary><c>assistant</c> in a choice's first chunk; omitted after.</summary>
    [JsonPropertyName("role")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    /// <summary>Reasoning text added by this chunk; omitted when none.</summary>
    [JsonPropertyName("reasoning_content")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReasoningContent { get; init; }

    /// <summary>Answer text added by this chunk; omitted when none.</summary>
    [JsonPropertyName("content")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Content { get; init; }

    /// <summary>Tool calls completed in this chunk, each with its <see cref="ToolCall.Index"/>; omitted when none.</summary>
    [JsonPropertyName("tool_calls")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }

    /// <summary>The opening delta of a choice: <c>{"role":"assistant","content":""}</c>.</summary>
    public static ChatDelta Opening { get; } = new() { Role = "assistant", Content = "" };

    /// <summary>
    /// A delta with the text and calls that arrived; empty strings and an empty call list are left out (so a chunk
    /// that only finishes a choice has <c>"delta":{}</c>).
    /// </summary>
    public static ChatDelta Of(string? content, string? reasoningContent = null, IReadOnlyList<ToolCall>? toolCalls = null) => new()
    {
        ReasoningContent = string.IsNullOrEmpty(reasoningContent) ? null : reasoningContent,
        Content = string.IsNullOrEmpty(content) ? null : content,
        ToolCalls = toolCalls is { Count: > 0 } ? toolCalls : null,
    };
}
