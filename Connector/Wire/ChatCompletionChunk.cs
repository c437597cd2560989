using System.Text.Json.Serialization;

namespace Fathom.Connector.Wire;

/// <summary>One SSE event of a streamed chat completion (<c>object: chat.completion.chunk</c>).</summary>
internal sealed class ChatCompletionChunk
{
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("created")]
    public long? Created { get; set; }

    [JsonPropertyName("model")]
    public string? Model { get; set; }

    [JsonPropertyName("choices")]
    public List<WireChunkChoice>? Choices { get; set; }

    /// <summary>Only in the last chunk, when <c>stream_options.include_usage</c> was requested.</summary>
    [JsonPropertyName("usage")]
    public WireUsage? Usage { get; set; }

    /// <summary>Set when the server reports a failure in the middle of the stream.</summary>
    [JsonPropertyName("error")]
    public WireError? Error { get; set; }
}

internal sealed class WireChunkChoice
{
    [JsonPropertyName("index")]
    public int Index { get; set; }

    [JsonPropertyName("delta")]
    public WireResponseMessage? Delta { get; set; }

    [JsonPropertyName("finish_reason")]
    public string? FinishReason { get; set; }
}
