using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>One choice of a non-streaming chat completion: <c>{"index","message","logprobs","finish_reason"}</c>.</summary>
public sealed record ChatChoice
{
    /// <summary>Which of the <c>n</c> completions this is.</summary>
    [JsonPropertyName("index")]
    public required int Index { get; init; }

    /// <summary>The assistant's message.</summary>
    [JsonPropertyName("message")]
    public required ChatMessage Message { get; init; }

    /// <summary>Log probabilities when requested; written as <c>null</c> otherwise.</summary>
    [JsonPropertyName("logprobs")]
    public ChatLogprobs? Logprobs { get; init; }

    /// <summary>One of <see cref="FinishReasons"/> (<see cref="FinishReasons.ToolCalls"/> when the message calls tools).</summary>
    [JsonPropertyName("finish_reason")]
    public string? FinishReason { get; init; }

    /// <summary>
    /// The choice for a finished answer: <paramref name="content"/> after the reasoning and tool calls were split off.
    /// With tool calls, an empty content becomes <c>null</c> and the finish reason <c>tool_calls</c>; without,
    /// a null content is written as <c>""</c>.
    /// </summary>
    public static ChatChoice Create(int index, string? content, string? reasoningContent, IReadOnlyList<ToolCall>? toolCalls,
        ChatLogprobs? logprobs, string? finishReason)
    {
        bool calls = toolCalls is { Count: > 0 };
        return new ChatChoice
        {
            Index = index,
            Message = new ChatMessage
            {
                Content = calls ? (string.IsNullOrEmpty(content) ? null : content) : content ?? "",
                ReasoningContent = reasoningContent,
                ToolCalls = calls ? toolCalls : null,
            },
            Logprobs = logprobs,
            FinishReason = calls ? FinishReasons.ToolCalls : finishReason,
        };
    }
}
