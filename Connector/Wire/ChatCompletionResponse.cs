using System.Text.Json.Serialization;

namespace Fathom.Connector.Wire;

/// <summary>A non-streaming chat completion (<c>object: chat.completion</c>).</summary>
internal sealed class ChatCompletionResponse
{
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("created")]
    public long? Created { get; set; }

    [JsonPropertyName("model")]
    public string? Model { get; set; }

    [JsonPropertyName("choices")]
    public List<WireChoice>? Choices { get; set; }

    [JsonPropertyName("usage")]
    public WireUsage? Usage { get; set; }
}

internal sealed class WireChoice
{
    [JsonPropertyName("index")]
    public int Index { get; set; }

    [JsonPropertyName("message")]
    public WireResponseMessage? Message { get; set; }

    [JsonPropertyName("finish_reason")]
    public string? FinishReason { get; set; }
}

/// <summary>The assistant message of a response, or the delta of a streamed chunk.</summary>
internal sealed class WireResponseMessage
{
    [JsonPropertyName("role")]
    public string? Role { get; set; }

    [JsonPropertyName("content")]
    public string? Content { get; set; }

    /// <summary>DeepSeek-R1 style reasoning, split from the answer by the server (vLLM's reasoning parser).</summary>
    [JsonPropertyName("reasoning_content")]
    public string? ReasoningContent { get; set; }

    /// <summary>The same, under the name newer vLLM releases use.</summary>
    [JsonPropertyName("reasoning")]
    public string? Reasoning { get; set; }

    [JsonPropertyName("tool_calls")]
    public List<WireToolCall>? ToolCalls { get; set; }
}

internal sealed class WireUsage
{
    [JsonPropertyName("prompt_tokens")]
    public long? PromptTokens { get; set; }

    [JsonPropertyName("completion_tokens")]
    public long? CompletionTokens { get; set; }

    [JsonPropertyName("total_tokens")]
    public long? TotalTokens { get; set; }

    [JsonPropertyName("prompt_tokens_details")]
    public WirePromptTokensDetails? PromptTokensDetails { get; set; }

    [JsonPropertyName("completion_tokens_details")]
    public WireCompletionTokensDetails? CompletionTokensDetails { get; set; }
}

internal sealed class WirePromptTokensDetails
{
    [JsonPropertyName("cached_tokens")]
    public long? CachedTokens { get; set; }
}

internal sealed class WireCompletionTokensDetails
{
    [JsonPropertyName("reasoning_tokens")]
    public long? ReasoningTokens { get; set; }
}
