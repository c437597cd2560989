using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>The answer of <c>GET /v1/models</c>: <c>{"object":"list","data":[…]}</c>.</summary>
public sealed record ModelList
{
    /// <summary>Always <c>list</c>.</summary>
    [JsonPropertyName("object")]
    public string ObjectType { get; init; } = "list";

    /// <summary>The models served.</summary>
    [JsonPropertyName("data")]
    public required IReadOnlyList<ModelCard> Data { get; init; }
}
