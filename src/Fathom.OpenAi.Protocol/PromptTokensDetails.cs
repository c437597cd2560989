using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>The breakdown of <see cref="Usage.PromptTokens"/>: <c>{"cached_tokens"}</c>.</summary>
public sealed record PromptTokensDetails
{
    /// <summary>Prompt tokens whose KV came from the prefix cache (local or shared) instead of being computed.</summary>
    [JsonPropertyName("cached_tokens")]
    public required int CachedTokens { get; init; }
}
