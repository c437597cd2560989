using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>Completions' <c>logprobs</c>: parallel arrays, one entry per generated token.</summary>
public sealed record CompletionLogprobs
{
    /// <summary>The tokens' texts.</summary>
    [JsonPropertyName("tokens")]
    public required IReadOnlyList<string> Tokens { get; init; }

    /// <summary>Their log probabilities (-9999 for minus infinity).</summary>
    [JsonPropertyName("token_logprobs")]
    public required IReadOnlyList<float> TokenLogprobs { get; init; }

    /// <summary>Per token, the most likely alternatives as <c>{text: logprob}</c>, most likely first.</summary>
    [JsonPropertyName("top_logprobs")]
    public required IReadOnlyList<IReadOnlyDictionary<string, float>> TopLogprobs { get; init; }

    /// <summary>Per token, its offset in characters (UTF-16) into the choice's text.</summary>
    [JsonPropertyName("text_offset")]
    public required IReadOnlyList<int> TextOffset { get; init; }
}
