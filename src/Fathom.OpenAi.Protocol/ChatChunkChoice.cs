using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>One choice of a chat stream chunk: <c>{"index","delta","logprobs","finish_reason"}</c>.</summary>
public sealed record ChatChunkChoice
{
    /// <summary>Which of the <c>n</c> completions this is.</summary>
    [JsonPropertyName("index")]
    public required int Index { get; init; }

    /// <summary>What this chunk adds.</summary>
    [JsonPropertyName("delta")]
    public required ChatDelta Delta { get; init; }

    /// <summary>The log probabilities of this chunk's tokens when requested; written as <c>null</c> otherwise.</summary>
    [JsonPropertyName("logprobs")]
    public ChatLogprobs? Logprobs { get; init; }

    /// <summary>Set in the choice's last chunk (<see cref="FinishReasons.ToolCalls"/> once it called tools); <c>null</c> before.</summary>
    [JsonPropertyName("finish_reason")]
    public string? FinishReason { get; init; }
}
