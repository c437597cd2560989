using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>The answer of a non-streaming <c>POST /v1/chat/completions</c> (<c>"object":"chat.completion"</c>).</summary>
public sealed record ChatCompletionResponse
{
    /// <summary>The response id, <c>chatcmpl-…</c>.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>Always <c>chat.completion</c>.</summary>
    [JsonPropertyName("object")]
    public string ObjectType { get; init; } = "chat.completion";

    /// <summary>Unix time, seconds.</summary>
    [JsonPropertyName("created")]
    public required long Created { get; init; }

    /// <summary>The served model's name.</summary>
    [JsonPropertyName("model")]
    public required string Model { get; init; }

    /// <summary>The <c>n</c> completions, by index.</summary>
    [JsonPropertyName("choices")]
    public required IReadOnlyList<ChatChoice> Choices { get; init; }

    /// <summary>Token counts over all choices.</summary>
    [JsonPropertyName("usage")]
    public required Usage Usage { get; init; }
}
