using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Tokenization;

namespace Fathom.EngineService.OpenAi;

/// <summary>Writes the parts that responses and chunks share: usage, finish reasons, log probabilities.</summary>
internal static class OpenAiJson
{
    /// <summary>Text stays readable (<c>&lt;think&gt;</c>, not <c>\u003Cthink\u003E</c>); the body is JSON, never HTML.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string? FinishReasonName(FinishReason? reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        _ => null,
    };

    public static void WriteFinishReason(Utf8JsonWriter json, FinishReason? reason)
    {
        if (FinishReasonName(reason) is { } name)
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
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.PromptTokens);
        json.WriteNumber("completion_tokens", usage.CompletionTokens);
        json.WriteNumber("total_tokens", usage.PromptTokens + usage.CompletionTokens);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", usage.CachedTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Chat's <c>logprobs</c>: <c>{"content":[{"token","logprob","bytes","top_logprobs":[…]}]}</c>.</summary>
    public static void WriteChatLogprobs(Utf8JsonWriter json, Tokenizer tokenizer, IEnumerable<SampledToken> tokens)
    {
        json.WriteStartObject("logprobs");
        json.WriteStartArray("content");
        foreach (var token in tokens)
        {
            json.WriteStartObject();
            WriteTokenEntry(json, tokenizer, token.TokenId, token.Logprob);
            json.WriteStartArray("top_logprobs");
            foreach (var top in token.TopLogprobs)
            {
                json.WriteStartObject();
                WriteTokenEntry(json, tokenizer, top.TokenId, top.Logprob);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Completions' <c>logprobs</c>: parallel arrays of tokens, their log probabilities, alternatives and offsets.</summary>
    public static void WriteCompletionLogprobs(Utf8JsonWriter json, Tokenizer tokenizer, IReadOnlyList<SampledToken> tokens, int textOffset)
    {
        json.WriteStartObject("logprobs");
        json.WriteStartArray("tokens");
        foreach (var token in tokens)
        {
            json.WriteStringValue(TokenText(tokenizer, token.TokenId));
        }

        json.WriteEndArray();
        json.WriteStartArray("token_logprobs");
        foreach (var token in tokens)
        {
            json.WriteNumberValue(Finite(token.Logprob));
        }

        json.WriteEndArray();
        json.WriteStartArray("top_logprobs");
        foreach (var token in tokens)
        {
            json.WriteStartObject();
            foreach (var top in token.TopLogprobs)
            {
                json.WriteNumber(TokenText(tokenizer, top.TokenId), Finite(top.Logprob));
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("text_offset");
        int offset = textOffset;
        foreach (var token in tokens)
        {
            json.WriteNumberValue(offset);
            offset += TokenText(tokenizer, token.TokenId).Length;
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static string TokenText(Tokenizer tokenizer, int tokenId) => Encoding.UTF8.GetString(tokenizer.GetPiece(tokenId, renderSpecial: true));

    private static void WriteTokenEntry(Utf8JsonWriter json, Tokenizer tokenizer, int tokenId, float logprob)
    {
        var bytes = tokenizer.GetPiece(tokenId, renderSpecial: true);
        json.WriteString("token", Encoding.UTF8.GetString(bytes));
        json.WriteNumber("logprob", Finite(logprob));
        json.WriteStartArray("bytes");
        foreach (byte b in bytes)
        {
            json.WriteNumberValue(b);
        }

        json.WriteEndArray();
    }

    // JSON has no infinities; OpenAI reports impossible tokens as -9999.
    private static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;
}
