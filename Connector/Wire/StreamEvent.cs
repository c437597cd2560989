using System.Text;
using System.Text.Json;

namespace Fathom.Connector.Wire;

/// <summary>One parsed SSE event of a chat completion stream.</summary>
internal readonly record struct StreamEvent(ChatCompletionChunk? Chunk, bool IsDone)
{
    private static ReadOnlySpan<byte> DoneMarker => "[DONE]"u8;

    /// <summary>Parses an event's data; throws <see cref="FathomApiException"/> for error events and malformed data.</summary>
    public static StreamEvent Parse(string eventType, ReadOnlySpan<byte> data)
    {
        var trimmed = data.Trim(" \r\n\t"u8);
        if (trimmed.IsEmpty)
        {
            return default;
        }

        if (trimmed.SequenceEqual(DoneMarker))
        {
            return new StreamEvent(null, IsDone: true);
        }

        ChatCompletionChunk? chunk;
        try
        {
            chunk = JsonSerializer.Deserialize(trimmed, FathomJsonContext.Default.ChatCompletionChunk);
        }
        catch (JsonException ex)
        {
            if (eventType == "error")
            {
                throw ErrorMapper.FromStreamError(null, Encoding.UTF8.GetString(trimmed));
            }

            throw new FathomApiException($"The server sent a malformed stream event: {ex.Message}", ex);
        }

        if (chunk?.Error is not null || eventType == "error")
        {
            throw ErrorMapper.FromStreamError(chunk?.Error, Encoding.UTF8.GetString(trimmed));
        }

        return new StreamEvent(chunk, IsDone: false);
    }
}
