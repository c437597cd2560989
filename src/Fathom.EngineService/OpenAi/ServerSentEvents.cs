using System.Buffers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// Push-style server-sent events for the chat endpoint, which still builds each chunk with a <see cref="Utf8JsonWriter"/>:
/// the same framing as <see cref="OpenAiServerSentEvents"/> (<see cref="SseFormatter"/>, a flush per event, <c>[DONE]</c>).
/// Goes away once the chat endpoint yields <see cref="ChatCompletionChunk"/>s to <see cref="EventStreamResponse.WriteAsync"/>.
/// </summary>
internal sealed class ServerSentEvents
{
    private readonly HttpResponse _response;
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public ServerSentEvents(HttpResponse response)
    {
        _response = response;
        EventStreamResponse.Start(response);
    }

    public async Task WriteAsync(Action<Utf8JsonWriter> build, CancellationToken cancellationToken)
    {
        _buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(_buffer, OpenAiJson.WriterOptions))
        {
            build(json);
        }

        await SseFormatter.WriteAsync(One(_buffer.WrittenMemory), _response.Body, static (item, writer) => writer.Write(item.Data.Span), cancellationToken);
        await _response.Body.FlushAsync(cancellationToken);
    }

    public async Task WriteDoneAsync(CancellationToken cancellationToken)
    {
        await SseFormatter.WriteAsync(One(OpenAiServerSentEvents.Done), _response.Body, cancellationToken);
        await _response.Body.FlushAsync(cancellationToken);
    }

    private static async IAsyncEnumerable<SseItem<T>> One<T>(T data)
    {
        await Task.CompletedTask;
        yield return new SseItem<T>(data);
    }
}
