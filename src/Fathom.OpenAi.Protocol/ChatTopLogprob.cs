using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>One alternative in <see cref="ChatTokenLogprob.TopLogprobs"/>: <c>{"token","logprob","bytes"}</c>.</summary>
public sealed record ChatTopLogprob
{
    /// <summary>The token's text (special tokens rendered).</summary>
    [JsonPropertyName("token")]
    public required string Token { get; init; }

    /// <summary>Its log probability; -9999 stands for minus infinity.</summary>
    [JsonPropertyName("logprob")]
    public required float Logprob { get; init; }

    /// <summary>The token's UTF-8 bytes.</summary>
    [JsonPropertyName("bytes")]
    public required IReadOnlyList<int> Bytes { get; init; }
}
