using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>The inside of <see cref="ErrorResponse"/>; <c>param</c> and <c>code</c> are always written, <c>null</c> when not set.</summary>
public sealed record ErrorDetail
{
    /// <summary>What went wrong, for people.</summary>
    [JsonPropertyName("message")]
    public required string Message { get; init; }

    /// <summary>The class of error: <see cref="ErrorTypes"/> or OpenAI's own, e.g. <c>requests</c> for rate limits.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>The request field at fault, if one is.</summary>
    [JsonPropertyName("param")]
    public string? Param { get; init; }

    /// <summary>A machine-readable code, e.g. <c>context_length_exceeded</c>.</summary>
    [JsonPropertyName("code")]
    public string? Code { get; init; }
}
