namespace Fathom.Engine.Sampling;

/// <summary>A token id with its log probability.</summary>
/// <param name="TokenId">The token.</param>
/// <param name="Logprob">Natural-log probability under the processed distribution.</param>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>The outcome of sampling one position.</summary>
/// <param name="TokenId">The chosen token.</param>
/// <param name="Logprob">Its log probability, when logprobs were requested (else NaN).</param>
/// <param name="TopLogprobs">The most likely tokens, most likely first, when top_logprobs &gt; 0 (else empty).</param>
public sealed record SampledToken(int TokenId, float Logprob, IReadOnlyList<TokenLogprob> TopLogprobs);
