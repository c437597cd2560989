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

    public static Task WriteAsync<T>(HttpResponse response, IAsyncEnumerable<T> chunks, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        Start(response);
        return OpenAiServerSentEvents.WriteAsync(response.Body, chunks, typeInfo, cancellationToken);
    }
}
