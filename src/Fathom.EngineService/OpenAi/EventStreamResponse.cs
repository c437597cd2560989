using System.Text.Json.Serialization.Metadata;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary>A streaming answer: the event-stream headers, then the chunks as server-sent events and <c>[DONE]</c>.</summary>
internal static class EventStreamResponse
{
    /// <summary>Sets the headers; nothing is sent until the first event, so an error before it can still answer in JSON.</summary>
    public static void Start(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Reverse proxies (nginx) would otherwise buffer the stream and hold the tokens back.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>
    /// Writes the stream. A request the engine fails after the first event has gone out ends with an error event,
    /// <c>data: {"error":{...}}</c>, and no <c>[DONE]</c> (the gateway's framing for a broken stream), so a client
    /// cannot take it for a short answer; before the first event the error is thrown, to be answered as JSON.
    /// </summary>
    public static async Task WriteAsync<T>(HttpResponse response, IAsyncEnumerable<T> chunks, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        Start(response);
        try
        {
            await OpenAiServerSentEvents.WriteAsync(response.Body, chunks, typeInfo, cancellationToken);
        }
        catch (Exception e) when (response.HasStarted && !cancellationToken.IsCancellationRequested && OpenAiErrors.Translate(e) is { } error)
        {
            await WriteErrorEventAsync(response, error, cancellationToken);
        }
    }

    private static async Task WriteErrorEventAsync(HttpResponse response, OpenAiException error, CancellationToken cancellationToken)
    {
        byte[] json = ErrorResponse.Create(error.Message, error.Type, error.Param, error.Code).ToUtf8Json();
        await response.Body.WriteAsync("data: "u8.ToArray(), cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
