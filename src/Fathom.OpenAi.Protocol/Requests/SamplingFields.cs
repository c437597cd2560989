using System.Text.Json;

namespace Fathom.OpenAi.Protocol.Requests;

/// <summary>
/// The sampling, length and streaming fields shared by <c>/v1/chat/completions</c> and <c>/v1/completions</c>, with
/// vLLM's extras, read by type from a request body (<see cref="Parse"/>). The engine maps them onto its sampling
/// parameters and checks their ranges; the API reads the same fields to charge a request's token budget.
/// Absent optional fields are null: what they default to is the engine's to decide.
/// </summary>
public sealed record SamplingFields
{
    /// <summary>What <c>/v1/completions</c> generates without <c>max_tokens</c> (OpenAI's and vLLM's default).</summary>
    public const int CompletionsDefaultMaxTokens = 16;

    /// <summary><c>model</c>; null when absent (the served one).</summary>
    public string? Model { get; init; }

    /// <summary><c>temperature</c>.</summary>
    public float? Temperature { get; init; }

    /// <summary><c>top_p</c>.</summary>
    public float? TopP { get; init; }

    /// <summary><c>top_k</c> (vLLM).</summary>
    public int? TopK { get; init; }

    /// <summary><c>min_p</c> (vLLM).</summary>
    public float? MinP { get; init; }

    /// <summary><c>repetition_penalty</c> (vLLM).</summary>
    public float? RepetitionPenalty { get; init; }

    /// <summary><c>frequency_penalty</c>.</summary>
    public float? FrequencyPenalty { get; init; }

    /// <summary><c>presence_penalty</c>.</summary>
    public float? PresencePenalty { get; init; }

    /// <summary><c>logit_bias</c>: token id to bias.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary><c>seed</c>.</summary>
    public long? Seed { get; init; }

    /// <summary>Whether log probabilities were asked for (chat: <c>logprobs</c>; completions: <c>logprobs</c> present).</summary>
    public bool Logprobs { get; init; }

    /// <summary>Alternatives per token (chat: <c>top_logprobs</c>; completions: the number in <c>logprobs</c>).</summary>
    public int TopLogprobs { get; init; }

    /// <summary><c>stop</c>: strings that end a completion.</summary>
    public IReadOnlyList<string>? Stop { get; init; }

    /// <summary><c>stop_token_ids</c> (vLLM).</summary>
    public IReadOnlyList<int>? StopTokenIds { get; init; }

    /// <summary>
    /// Tokens to generate per completion: chat's <c>max_completion_tokens</c> or <c>max_tokens</c>, completions'
    /// <c>max_tokens</c> (16 when absent). Null for a chat request without one: generation may run to the end of
    /// the model's context.
    /// </summary>
    public int? MaxTokens { get; init; }

    /// <summary><c>n</c>: completions per prompt (1 when absent).</summary>
    public int N { get; init; } = 1;

    /// <summary><c>ignore_eos</c> (vLLM).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary><c>stream</c>.</summary>
    public bool Stream { get; init; }

    /// <summary><c>stream_options.include_usage</c>: a final chunk carries the usage.</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>
    /// Reads the fields of <paramref name="body"/> (a JSON object) for chat (<paramref name="chat"/>) or text
    /// completions. Throws <see cref="RequestFieldException"/> naming the first field that is not what it must be,
    /// or that asks for something not supported (<c>echo</c>, <c>suffix</c>, <c>best_of</c> other than <c>n</c>).
    /// </summary>
    public static SamplingFields Parse(JsonElement body, bool chat)
    {
        bool logprobs;
        int topLogprobs;
        if (chat)
        {
            logprobs = body.GetBool("logprobs") ?? false;
            topLogprobs = body.GetInt("top_logprobs") ?? 0;
        }
        else
        {
            // Completions: logprobs is the number of alternatives, null for none.
            int? count = body.GetInt("logprobs");
            logprobs = count is not null;
            topLogprobs = count ?? 0;
            if (body.GetBool("echo") == true)
            {
                throw new RequestFieldException("echo is not supported.", "echo");
            }

            if (body.GetString("suffix") is { Length: > 0 })
            {
                throw new RequestFieldException("suffix is not supported.", "suffix");
            }
        }

        int n = body.GetInt("n") ?? 1;
        if (body.GetInt("best_of") is { } bestOf && bestOf != n)
        {
            throw new RequestFieldException("best_of other than n is not supported.", "best_of");
        }

        int? maxTokens = (chat ? body.GetInt("max_completion_tokens") : null) ?? body.GetInt("max_tokens");
        bool includeUsage = body.GetObject("stream_options") is { } options && (options.GetBool("include_usage") ?? false);
        return new SamplingFields
        {
            Model = body.GetString("model"),
            Temperature = body.GetFloat("temperature"),
            TopP = body.GetFloat("top_p"),
            TopK = body.GetInt("top_k"),
            MinP = body.GetFloat("min_p"),
            RepetitionPenalty = body.GetFloat("repetition_penalty"),
            FrequencyPenalty = body.GetFloat("frequency_penalty"),
            PresencePenalty = body.GetFloat("presence_penalty"),
            LogitBias = body.GetLogitBias("logit_bias"),
            Seed = body.GetLong("seed"),
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            Stop = body.GetStringOrArray("stop"),
            StopTokenIds = body.GetIntArray("stop_token_ids"),
            MaxTokens = maxTokens ?? (chat ? null : CompletionsDefaultMaxTokens),
            N = n,
            IgnoreEos = body.GetBool("ignore_eos") ?? false,
            Stream = body.GetBool("stream") ?? false,
            IncludeUsage = includeUsage,
        };
    }
}
