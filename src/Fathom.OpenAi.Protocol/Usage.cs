using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>Token counts of a request: <c>{"prompt_tokens","completion_tokens","total_tokens","prompt_tokens_details":{"cached_tokens"}}</c>.</summary>
public sealed record Usage
{
    /// <summary>Tokens in the prompt.</summary>
    [JsonPropertyName("prompt_tokens")]
    public required int PromptTokens { get; init; }

    /// <summary>Tokens generated, summed over all choices.</summary>
    [JsonPropertyName("completion_tokens")]
    public required int CompletionTokens { get; init; }

    /// <summary>Prompt plus completion tokens.</summary>
    [JsonPropertyName("total_tokens")]
    public required int TotalTokens { get; init; }

    /// <summary>How much of the prompt was served from the prefix cache.</summary>
    [JsonPropertyName("prompt_tokens_details")]
    public required PromptTokensDetails PromptTokensDetails { get; init; }

    /// <summary>The usage of a request with these counts; the total is their sum.</summary>
    public static Usage Of(int promptTokens, int completionTokens, int cachedTokens) => new()
    {
        PromptTokens = promptTokens,
        CompletionTokens = completionTokens,
        TotalTokens = promptTokens + completionTokens,
        PromptTokensDetails = new PromptTokensDetails { CachedTokens = cachedTokens },
    };
}
