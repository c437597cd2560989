using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// OpenAI's error envelope, <c>{"error":{"message","type","param","code"}}</c>, and the one way Fathom's services
/// write it: to a response body (<see cref="WriteAsync"/>) or as bytes for a stream event (<see cref="ToUtf8Json"/>).
/// </summary>
public sealed record ErrorResponse
{
    /// <summary>The error.</summary>
    [JsonPropertyName("error")]
    public required ErrorDetail Error { get; init; }

    /// <summary>An envelope around an error with these fields (<paramref name="param"/> and <paramref name="code"/> written as <c>null</c> when null).</summary>
    public static ErrorResponse Create(string message, string type, string? param = null, string? code = null) =>
        new() { Error = new ErrorDetail { Message = message, Type = type, Param = param, Code = code } };

    /// <summary>Writes the envelope as compact JSON to <paramref name="body"/>.</summary>
    public Task WriteAsync(Stream body, CancellationToken cancellationToken = default) =>
        JsonSerializer.SerializeAsync(body, this, OpenAiJsonContext.Wire.ErrorResponse, cancellationToken);

    /// <summary>The envelope as compact UTF-8 JSON.</summary>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, OpenAiJsonContext.Wire.ErrorResponse);
}
