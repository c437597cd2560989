using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>Chat's <c>logprobs</c>: <c>{"content":[{"token","logprob","bytes","top_logprobs":[…]}]}</c>.</summary>
public sealed record ChatLogprobs
{
    /// <summary>One entry per generated token.</summary>
    [JsonPropertyName("content")]
    public required IReadOnlyList<ChatTokenLogprob> Content { get; init; }
}
