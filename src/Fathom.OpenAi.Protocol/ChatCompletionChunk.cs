using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// One server-sent event of a streaming <c>POST /v1/chat/completions</c> (<c>"object":"chat.completion.chunk"</c>).
/// With <c>stream_options.include_usage</c> every chunk carries <c>"usage":null</c> and a last chunk with no
/// choices carries the usage; without, <c>usage</c> is left out.
/// </summary>
public sealed record ChatCompletionChunk
{
    /// <summary>The response id, the same in every chunk.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>Always <c>chat.completion.chunk</c>.</summary>
    [JsonPropertyName("object")]
    public string ObjectType { get; init; } = "chat.completion.chunk";

    /// <summary>Unix time, seconds, the same in every chunk.</summary>
    [JsonPropertyName("created")]
    public required long Created { get; init; }

    /// <summary>The served model's name.</summary>
    [JsonPropertyName("model")]
    public required string Model { get; init; }

    /// <summary>The choice that moved (one per chunk), or none in the usage chunk.</summary>
    [JsonPropertyName("choices")]
    public required IReadOnlyList<ChatChunkChoice> Choices { get; init; }

    /// <summary>Omitted unless usage was asked for; then <c>null</c> except in the final usage chunk.</summary>
    [JsonPropertyName("usage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public Omittable<Usage> Usage { get; init; }

    /// <summary>A choice's first chunk: <c>"delta":{"role":"assistant","content":""}</c>, no log probabilities, not finished.</summary>
    public static ChatCompletionChunk Opening(string id, long created, string model, int index, bool includeUsage) =>
        ForChoice(id, created, model, new ChatChunkChoice { Index = index, Delta = ChatDelta.Opening }, includeUsage);

    /// <summary>
    /// A chunk of choice <paramref name="index"/>: its <paramref name="delta"/> (see <see cref="ChatDelta.Of"/>), the
    /// log probabilities of its token when requested, and <paramref name="finishReason"/> in the choice's last chunk —
    /// replaced by <c>tool_calls</c> when <paramref name="calledTools"/> (any call so far in this choice).
    /// </summary>
    public static ChatCompletionChunk Delta(string id, long created, string model, int index, ChatDelta delta, ChatLogprobs? logprobs,
        string? finishReason, bool calledTools, bool includeUsage) =>
        ForChoice(id, created, model, new ChatChunkChoice
        {
            Index = index,
            Delta = delta,
            Logprobs = logprobs,
            FinishReason = finishReason is not null && calledTools ? FinishReasons.ToolCalls : finishReason,
        }, includeUsage);

    /// <summary>A chunk with one choice as given; <paramref name="includeUsage"/> adds <c>"usage":null</c>.</summary>
    public static ChatCompletionChunk ForChoice(string id, long created, string model, ChatChunkChoice choice, bool includeUsage) => new()
    {
        Id = id,
        Created = created,
        Model = model,
        Choices = [choice],
        Usage = includeUsage ? new Omittable<Usage>(null) : default,
    };

    /// <summary>The final usage chunk: no choices, the request's <paramref name="usage"/>.</summary>
    public static ChatCompletionChunk ForUsage(string id, long created, string model, Usage usage) => new()
    {
        Id = id,
        Created = created,
        Model = model,
        Choices = [],
        Usage = usage,
    };
}
