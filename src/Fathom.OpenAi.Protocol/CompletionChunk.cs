using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// One server-sent event of a streaming <c>POST /v1/completions</c>. Same <c>object</c> as the whole response
/// (<c>text_completion</c>), as OpenAI does; with <c>stream_options.include_usage</c> every chunk carries
/// <c>"usage":null</c> and a last chunk with no choices carries the usage.
/// </summary>
public sealed record CompletionChunk
{
    /// <summary>The response id, the same in every chunk.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>Always <c>text_completion</c>.</summary>
    [JsonPropertyName("object")]
    public string ObjectType { get; init; } = "text_completion";

    /// <summary>Unix time, seconds, the same in every chunk.</summary>
    [JsonPropertyName("created")]
    public required long Created { get; init; }

    /// <summary>The served model's name.</summary>
    [JsonPropertyName("model")]
    public required string Model { get; init; }

    /// <summary>The choices that moved (one per chunk here), or none in the usage chunk.</summary>
    [JsonPropertyName("choices")]
    public required IReadOnlyList<CompletionChoice> Choices { get; init; }

    /// <summary>Omitted unless usage was asked for; then <c>null</c> except in the final usage chunk.</summary>
    [JsonPropertyName("usage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public Omittable<Usage> Usage { get; init; }

    /// <summary>A chunk with one choice; <paramref name="includeUsage"/> adds <c>"usage":null</c>.</summary>
    public static CompletionChunk ForChoice(string id, long created, string model, CompletionChoice choice, bool includeUsage) => new()
    {
        Id = id,
        Created = created,
        Model = model,
        Choices = [choice],
        Usage = includeUsage ? new Omittable<Usage>(null) : default,
    };

    /// <summary>The final usage chunk: no choices, the request's <paramref name="usage"/>.</summary>
    public static CompletionChunk ForUsage(string id, long created, string model, Usage usage) => new()
    {
        Id = id,
        Created = created,
        Model = model,
        Choices = [],
        Usage = usage,
    };
}
