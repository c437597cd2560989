using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>A generated token with its log probability and the most likely alternatives.</summary>
public sealed record ChatTokenLogprob
{
    /// <summary>The token's text (special tokens rendered).</summary>
    [JsonPropertyName("token")]
    public required string Token { get; init; }

    /// <summary>Its log probability; -9999 stands for minus infinity, which JSON cannot hold.</summary>
    [JsonPropertyName("logprob")]
    public required float Logprob { get; init; }

    /// <summary>The token's UTF-8 bytes, which may be part of a character.</summary>
    [JsonPropertyName("bytes")]
    public required IReadOnlyList<int> Bytes { get; init; }

    /// <summary>The <c>top_logprobs</c> most likely tokens at this position, most likely first.</summary>
    [JsonPropertyName("top_logprobs")]
    public required IReadOnlyList<ChatTopLogprob> TopLogprobs { get; init; }
}
