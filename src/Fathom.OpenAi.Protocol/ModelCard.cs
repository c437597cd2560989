using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>One served model: <c>{"id","object":"model","created","owned_by","max_model_len"}</c>.</summary>
public sealed record ModelCard
{
    /// <summary>The name requests use in <c>model</c>.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>Always <c>model</c>.</summary>
    [JsonPropertyName("object")]
    public string ObjectType { get; init; } = "model";

    /// <summary>Unix time, seconds.</summary>
    [JsonPropertyName("created")]
    public required long Created { get; init; }

    /// <summary>The owner; <c>fathom</c> for the engine's models.</summary>
    [JsonPropertyName("owned_by")]
    public required string OwnedBy { get; init; }

    /// <summary>The context length in tokens (vLLM's extension); omitted when unknown.</summary>
    [JsonPropertyName("max_model_len")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxModelLength { get; init; }
}
