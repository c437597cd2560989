using System.Text;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Templates;
using Fathom.Engine.Tokenization;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary>The engine's results as protocol records: usage, finish reasons, log probabilities.</summary>
internal static class ProtocolMapping
{
    public static string? FinishReason(FinishReason? reason) => reason switch
    {
        Engine.Scheduling.FinishReason.Stop => FinishReasons.Stop,
        Engine.Scheduling.FinishReason.Length => FinishReasons.Length,
        Engine.Scheduling.FinishReason.Abort => FinishReasons.Abort,
        _ => null,
    };

    public static string? FinishReason(ChatFinishReason? reason) => reason switch
    {
        ChatFinishReason.ToolCalls => FinishReasons.ToolCalls,
        ChatFinishReason.Stop => FinishReasons.Stop,
        ChatFinishReason.Length => FinishReasons.Length,
        ChatFinishReason.Abort => FinishReasons.Abort,
        _ => null,
    };

    public static Usage Usage(GenerationUsage usage) => Fathom.OpenAi.Protocol.Usage.Of(usage.PromptTokens, usage.CompletionTokens, usage.CachedTokens);

    /// <summary>Chat's <c>logprobs</c>, one entry per token with its alternatives.</summary>
    public static ChatLogprobs ChatLogprobs(Tokenizer tokenizer, IEnumerable<SampledToken> tokens) => new()
    {
        Content = [.. tokens.Select(token =>
        {
            var bytes = tokenizer.GetPiece(token.TokenId, renderSpecial: true);
            return new ChatTokenLogprob
            {
                Token = Encoding.UTF8.GetString(bytes),
                Logprob = Finite(token.Logprob),
                Bytes = Bytes(bytes),
                TopLogprobs = [.. token.TopLogprobs.Select(top => TopLogprob(tokenizer, top.TokenId, top.Logprob))],
            };
        })],
    };

    /// <summary>Completions' <c>logprobs</c>; offsets count from <paramref name="textOffset"/>, the choice's text so far.</summary>
    public static CompletionLogprobs CompletionLogprobs(Tokenizer tokenizer, IReadOnlyList<SampledToken> tokens, int textOffset)
    {
        var texts = tokens.Select(t => TokenText(tokenizer, t.TokenId)).ToArray();
        var offsets = new int[texts.Length];
        for (int i = 0, offset = textOffset; i < texts.Length; offset += texts[i].Length, i++)
        {
            offsets[i] = offset;
        }

        return new CompletionLogprobs
        {
            Tokens = texts,
            TokenLogprobs = [.. tokens.Select(t => Finite(t.Logprob))],
            TopLogprobs = [.. tokens.Select(t => Alternatives(tokenizer, t))],
            TextOffset = offsets,
        };
    }

    /// <summary>Parsed tool calls as records; <paramref name="firstIndex"/> numbers them in stream deltas (omitted otherwise).</summary>
    public static IReadOnlyList<ToolCall> ToolCalls(IReadOnlyList<ChatToolCall> calls, int? firstIndex = null) =>
        [.. calls.Select((call, i) => ToolCall.Of(call.Id, call.Name, call.Arguments, firstIndex + i))];

    public static string TokenText(Tokenizer tokenizer, int tokenId) => Encoding.UTF8.GetString(tokenizer.GetPiece(tokenId, renderSpecial: true));

    private static Dictionary<string, float> Alternatives(Tokenizer tokenizer, SampledToken token)
    {
        // Two ids can render to the same text; a JSON object holds each name once, so the likelier one (first) stays.
        var alternatives = new Dictionary<string, float>(token.TopLogprobs.Count, StringComparer.Ordinal);
        foreach (var top in token.TopLogprobs)
        {
            alternatives.TryAdd(TokenText(tokenizer, top.TokenId), Finite(top.Logprob));
        }

        return alternatives;
    }

    private static ChatTopLogprob TopLogprob(Tokenizer tokenizer, int tokenId, float logprob)
    {
        var bytes = tokenizer.GetPiece(tokenId, renderSpecial: true);
        return new ChatTopLogprob { Token = Encoding.UTF8.GetString(bytes), Logprob = Finite(logprob), Bytes = Bytes(bytes) };
    }

    private static int[] Bytes(ReadOnlySpan<byte> bytes)
    {
        var values = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            values[i] = bytes[i];
        }

        return values;
    }

    // JSON has no infinities; OpenAI reports impossible tokens as -9999.
    private static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;
}
