using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>The answer of a non-streaming <c>POST /v1/completions</c> (<c>"object":"text_completion"</c>).</summary>
public sealed record CompletionResponse
{
    /// <summary>The response id, <c>cmpl-…</c>.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>Always <c>text_completion</c>.</summary>
    [JsonPropertyName("object")]
    public string ObjectType { get; init; } = "text_completion";

    /// <summary>Unix time, seconds.</summary>
    [JsonPropertyName("created")]
    public required long Created { get; init; }

    /// <summary>The served model's name.</summary>
    [JsonPropertyName("model")]
    public required string Model { get; init; }

    /// <summary>The <c>n</c> completions, by index.</summary>
    [JsonPropertyName("choices")]
    public required IReadOnlyList<CompletionChoice> Choices { get; init; }

    /// <summary>Token counts over all choices.</summary>
    [JsonPropertyName("usage")]
    public required Usage Usage { get; init; }
}
