using System.Buffers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// OpenAI's streaming framing on the BCL's <see cref="SseFormatter"/>: one <c>data: {json}\n\n</c> event per chunk,
/// then <c>data: [DONE]\n\n</c>, which OpenAI clients wait for. Each event is flushed as soon as it is written, so a
/// client sees every token as it is generated.
/// </summary>
public static class OpenAiServerSentEvents
{
    /// <summary>The terminating event's data.</summary>
    public const string Done = "[DONE]";

    /// <summary>Writes <paramref name="chunks"/> as events to <paramref name="destination"/>, then <c>[DONE]</c>.</summary>
    /// <param name="destination">The response body.</param>
    /// <param name="chunks">The chunks, e.g. <see cref="ChatCompletionChunk"/>s, produced while the generation runs.</param>
    /// <param name="typeInfo">The chunk type's metadata from <see cref="OpenAiJsonContext.Wire"/>.</param>
    /// <param name="cancellationToken">Cancels the write (the client went away).</param>
    public static async Task WriteAsync<T>(Stream destination, IAsyncEnumerable<T> chunks, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(typeInfo);
        var options = new JsonWriterOptions { Encoder = typeInfo.Options.Encoder, SkipValidation = true };
        Utf8JsonWriter? json = null;
        try
        {
            await SseFormatter.WriteAsync(Events(chunks, destination, cancellationToken), destination, (item, buffer) =>
            {
                // SseFormatter hands the same buffer for every event; one writer, reset onto it, serves them all.
                if (json is null)
                {
                    json = new Utf8JsonWriter(buffer, options);
                }
                else
                {
                    json.Reset(buffer);
                }

                JsonSerializer.Serialize(json, item.Data, typeInfo);
                json.Flush();
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            json?.Dispose();
        }

        await SseFormatter.WriteAsync(DoneEvent(), destination, cancellationToken).ConfigureAwait(false);
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async IAsyncEnumerable<SseItem<T>> Events<T>(IAsyncEnumerable<T> chunks, Stream destination,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return new SseItem<T>(chunk);

            // SseFormatter asks for the next event only after writing this one, but it never flushes: flush here,
            // before waiting for the next token, or the server may hold the event back.
            await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async IAsyncEnumerable<SseItem<string>> DoneEvent()
    {
        await Task.CompletedTask.ConfigureAwait(false);
        yield return new SseItem<string>(Done);
    }
}
