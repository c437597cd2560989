using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fathom.Connector.Wire;

/// <summary>OpenAI's error envelope: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
internal sealed class WireErrorEnvelope
{
    [JsonPropertyName("error")]
    public WireError? Error { get; set; }
}

internal sealed class WireError
{
    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("param")]
    public string? Param { get; set; }

    /// <summary>A string in OpenAI's responses, a number (the HTTP status) in vLLM's.</summary>
    [JsonPropertyName("code")]
    public JsonElement? Code { get; set; }
}
