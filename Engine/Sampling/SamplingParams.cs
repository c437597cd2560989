namespace Fathom.Engine.Sampling;

/// <summary>
/// How to pick tokens for one request, with OpenAI's and vLLM's meanings. Call <see cref="Validate"/> before use.
/// </summary>
public sealed record SamplingParams
{
    /// <summary>Largest <see cref="TopLogprobs"/> accepted.</summary>
    public const int MaxTopLogprobs = 20;

    /// <summary>Largest <see cref="N"/> accepted.</summary>
    public const int MaxN = 128;

    /// <summary>Softmax temperature, finite and &gt;= 0 (vLLM's range); below 1e-5 (0 included) sampling is greedy (ties go to the lowest token id).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens: -1 or 0 disables, else at least 1; a k beyond the vocabulary keeps every token.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches this mass, in (0, 1]; 1 disables. The most likely token always stays.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Drop tokens less likely than this fraction of the most likely one, in [0, 1]; 0 disables. The most likely token always stays.</summary>
    public float MinP { get; init; }

    /// <summary>
    /// vLLM's multiplicative penalty on tokens seen in the prompt or output (positive logits divided, negative
    /// multiplied); 1 disables. Finite and &gt; 0, as vLLM accepts: no upper bound, and a tiny value (which can turn a
    /// logit into +∞) is safe because the sampler treats such a token as overwhelmingly likely.
    /// </summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>OpenAI's penalty subtracted once per occurrence of a token in the output, in [-2, 2].</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>OpenAI's penalty subtracted once from every token that occurs in the output, in [-2, 2].</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Added to the logit of each listed token id: values in [-100, 100], ids in the vocabulary.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Seeds the request's own random stream (any value); null picks one at random.</summary>
    public long? Seed { get; init; }

    /// <summary>Return the log probability of each sampled token.</summary>
    public bool Logprobs { get; init; }

    /// <summary>Also return this many most likely alternatives per position (0..20; needs <see cref="Logprobs"/>).</summary>
    public int TopLogprobs { get; init; }

    /// <summary>Strings that end generation, none empty; matched on the detokenized text by <see cref="StopStringMatcher"/>.</summary>
    public IReadOnlyList<string>? Stop { get; init; }

    /// <summary>Token ids (in the vocabulary) that end generation, in addition to the model's end-of-generation ids.</summary>
    public IReadOnlyList<int>? StopTokenIds { get; init; }

    /// <summary>Most tokens to generate, at least 1; null: until the context is full.</summary>
    public int? MaxTokens { get; init; } = 16;

    /// <summary>Number of completions to generate for the prompt, in [1, <see cref="MaxN"/>].</summary>
    public int N { get; init; } = 1;

    /// <summary>Keep generating past the model's end-of-generation tokens.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Whether sampling reduces to picking the most likely token.</summary>
    public bool IsGreedy => Temperature < 1e-5f;

    /// <summary>Checks every parameter's range (each property documents its own); NaN and infinities are out of every range.</summary>
    /// <param name="vocabSize">When known, token ids in <see cref="LogitBias"/> and <see cref="StopTokenIds"/> must be below it.</param>
    /// <exception cref="InvalidSamplingParameterException">The first parameter out of range, by its API name.</exception>
    public void Validate(int? vocabSize = null)
    {
        Check(float.IsFinite(Temperature) && Temperature >= 0, "temperature", $"temperature must be a finite number >= 0, got {Temperature}.");
        Check(TopK >= -1, "top_k", $"top_k must be -1 or 0 (disabled) or at least 1, got {TopK}.");
        Check(TopP is > 0 and <= 1, "top_p", $"top_p must be in (0, 1], got {TopP}.");
        Check(MinP is >= 0 and <= 1, "min_p", $"min_p must be in [0, 1], got {MinP}.");
        Check(float.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0, "repetition_penalty", $"repetition_penalty must be > 0, got {RepetitionPenalty}.");
        Check(FrequencyPenalty is >= -2 and <= 2, "frequency_penalty", $"frequency_penalty must be in [-2, 2], got {FrequencyPenalty}.");
        Check(PresencePenalty is >= -2 and <= 2, "presence_penalty", $"presence_penalty must be in [-2, 2], got {PresencePenalty}.");
        Check(TopLogprobs is >= 0 and <= MaxTopLogprobs, "top_logprobs", $"top_logprobs must be in [0, {MaxTopLogprobs}], got {TopLogprobs}.");
        Check(TopLogprobs == 0 || Logprobs, "top_logprobs", "top_logprobs requires logprobs to be enabled.");
        Check(MaxTokens is null or >= 1, "max_tokens", $"max_tokens must be at least 1, got {MaxTokens}.");
        Check(N is >= 1 and <= MaxN, "n", $"n must be in [1, {MaxN}], got {N}.");
        foreach (var (token, bias) in LogitBias ?? new Dictionary<int, float>())
        {
            CheckTokenId(token, vocabSize, "logit_bias");
            Check(bias is >= -100 and <= 100, "logit_bias", $"logit_bias values must be in [-100, 100], got {bias} for token {token}.");
        }

        foreach (int token in StopTokenIds ?? [])
        {
            CheckTokenId(token, vocabSize, "stop_token_ids");
        }

        foreach (string? stop in Stop ?? [])
        {
            Check(!string.IsNullOrEmpty(stop), "stop", "stop strings must not be empty.");
        }
    }

    private static void CheckTokenId(int token, int? vocabSize, string param) =>
        Check(token >= 0 && (vocabSize is null || token < vocabSize), param,
            $"{param} names token id {token}, outside the vocabulary [0, {vocabSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "…"}).");

    private static void Check(bool ok, string param, string message)
    {
        if (!ok)
        {
            throw new InvalidSamplingParameterException(message, param);
        }
    }
}
