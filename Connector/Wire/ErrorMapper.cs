using System.Net;
using System.Text.Json;

namespace Fathom.Connector.Wire;

/// <summary>Builds <see cref="FathomApiException"/>s from failed responses and in-stream error events.</summary>
internal static class ErrorMapper
{
    // An error body is small; a misbehaving proxy could send megabytes of HTML.
    private const int MaxErrorBodyChars = 16 * 1024;

    public static async Task<FathomApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            body = string.Empty;
        }

        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };

        var error = TryParse(body);
        var status = (int)response.StatusCode;
        var message = error?.Message is { Length: > 0 } serverMessage
            ? serverMessage
            : $"HTTP {status} ({response.ReasonPhrase}){(body.Length > 0 ? ": " + Truncate(body) : string.Empty)}";

        return new FathomApiException(message, response.StatusCode, error?.Type, CodeText(error?.Code), error?.Param, retryAfter);
    }

    public static FathomApiException FromStreamError(WireError? error, string rawData)
    {
        var message = error?.Message is { Length: > 0 } serverMessage
            ? serverMessage
            : $"The server reported an error in the stream: {Truncate(rawData)}";
        HttpStatusCode? status = error?.Code is { ValueKind: JsonValueKind.Number } code && code.TryGetInt32(out var number)
            ? (HttpStatusCode)number
            : null;
        return new FathomApiException(message, status, error?.Type, CodeText(error?.Code), error?.Param);
    }

    private static WireError? TryParse(string body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(body, FathomJsonContext.Default.WireErrorEnvelope)?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? CodeText(JsonElement? code) => code switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        _ => null,
    };

    private static string Truncate(string text) =>
        text.Length <= MaxErrorBodyChars ? text : text[..MaxErrorBodyChars] + "...";
}
