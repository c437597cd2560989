using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.Options;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// Reads a JSON request body strictly (within <see cref="RequestLimits"/>, valid UTF-8, valid JSON, an object). Its
/// fields are read by the protocol's shared readers (<see cref="RequestFields"/>, <see cref="SamplingFields"/>), which
/// the API uses too, so both read a body alike: a field of the wrong type is a 400 naming it.
/// </summary>
internal static class RequestJson
{
    public static async Task<JsonDocument> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var limits = request.HttpContext.RequestServices.GetRequiredService<IOptions<RequestLimits>>().Value;
        using var buffer = await OversizedBody.ReadAsync(request, limits.MaxRequestBodyBytes, limits.MaxDiscardedBodyBytes, cancellationToken);
        if (!buffer.TryGetBuffer(out var bytes) || !Utf8.IsValid(bytes))
        {
            throw OpenAiException.BadRequest("The request body is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = limits.MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw OpenAiException.BadRequest($"The request body is not valid JSON: {e.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw OpenAiException.BadRequest("The request body must be a JSON object.");
        }

        try
        {
            RequestBounds.Check(document.RootElement, limits);
        }
        catch
        {
            document.Dispose();
            throw;
        }

        return document;
    }
}
