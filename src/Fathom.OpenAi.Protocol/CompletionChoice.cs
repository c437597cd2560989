using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>One choice of a completion or of a completion chunk: <c>{"index","text","logprobs","finish_reason"}</c>.</summary>
public sealed record CompletionChoice
{
    /// <summary>Which of the <c>n</c> completions this is.</summary>
    [JsonPropertyName("index")]
    public required int Index { get; init; }

    /// <summary>The text (in a chunk: the text added since the previous chunk).</summary>
    [JsonPropertyName("text")]
    public required string Text { get; init; }

    /// <summary>Log probabilities when requested; written as <c>null</c> otherwise.</summary>
    [JsonPropertyName("logprobs")]
    public CompletionLogprobs? Logprobs { get; init; }

    /// <summary>One of <see cref="FinishReasons"/>; written as <c>null</c> while the choice goes on.</summary>
    [JsonPropertyName("finish_reason")]
    public string? FinishReason { get; init; }
}
