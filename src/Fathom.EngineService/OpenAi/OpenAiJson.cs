using System.Text.Encodings.Web;
using System.Text.Json;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Tokenization;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// The parts the chat endpoint still writes field by field (usage, finish reasons, log probabilities), produced from
/// the protocol's records so that both endpoints put the same bytes on the wire. Goes away once the chat endpoint
/// serializes <see cref="ChatCompletionResponse"/> and <see cref="ChatCompletionChunk"/> itself.
/// </summary>
/// <remarks>
/// The records go in as raw JSON: serializing into a writer over the response body would flush it synchronously,
/// which Kestrel refuses.
/// </remarks>
internal static class OpenAiJson
{
    /// <summary>The escaping of <see cref="OpenAiJsonContext.Wire"/>: text stays readable (<c>&lt;think&gt;</c>, not <c>\u003Cthink\u003E</c>).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteFinishReason(Utf8JsonWriter json, FinishReason? reason)
    {
        if (ProtocolMapping.FinishReason(reason) is { } name)
        {
            json.WriteString("finish_reason", name);
        }
        else
        {
            json.WriteNull("finish_reason");
        }
    }

    public static void WriteUsage(Utf8JsonWriter json, GenerationUsage usage)
    {
        json.WritePropertyName("usage");
        json.WriteRawValue(JsonSerializer.SerializeToUtf8Bytes(ProtocolMapping.Usage(usage), OpenAiJsonContext.Wire.Usage), skipInputValidation: true);
    }

    public static void WriteChatLogprobs(Utf8JsonWriter json, Tokenizer tokenizer, IEnumerable<SampledToken> tokens)
    {
        json.WritePropertyName("logprobs");
        json.WriteRawValue(JsonSerializer.SerializeToUtf8Bytes(ProtocolMapping.ChatLogprobs(tokenizer, tokens), OpenAiJsonContext.Wire.ChatLogprobs),
            skipInputValidation: true);
    }
}
