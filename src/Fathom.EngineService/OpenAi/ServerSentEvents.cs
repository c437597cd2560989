using System.Buffers;
using System.Text.Json;

namespace Fathom.EngineService.OpenAi;

/// <summary>Writes <c>data: {json}</c> events and the final <c>data: [DONE]</c> to a streaming response.</summary>
internal sealed class ServerSentEvents
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private readonly HttpResponse _response;
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public ServerSentEvents(HttpResponse response)
    {
        _response = response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public async Task WriteAsync(Action<Utf8JsonWriter> build, CancellationToken cancellationToken)
    {
        _buffer.ResetWrittenCount();
        _buffer.Write(DataPrefix);
        using (var json = new Utf8JsonWriter(_buffer, OpenAiJson.WriterOptions))
        {
            build(json);
        }

        _buffer.Write(EventEnd);
        await _response.Body.WriteAsync(_buffer.WrittenMemory, cancellationToken);
        await _response.Body.FlushAsync(cancellationToken);
    }

    public async Task WriteDoneAsync(CancellationToken cancellationToken)
    {
        await _response.Body.WriteAsync(Done, cancellationToken);
        await _response.Body.FlushAsync(cancellationToken);
    }
}
