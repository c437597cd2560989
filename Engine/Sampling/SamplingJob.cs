namespace Fathom.Engine.Sampling;

/// <summary>
/// One draw that an accelerator makes where the logits are, instead of copying the row to the host for
/// <see cref="Sampler"/>: the row, the request's parameters, the uniform number the host sampler would draw, and the
/// per-token adjustments (penalties and logit bias) in compact form. The device applies exactly
/// <see cref="Sampler"/>'s steps in its order (penalties → logit bias → temperature → top-k → top-p → min-p →
/// draw), so a seeded request draws the same token on both; when the request asks for logprobs, the device also
/// computes them as <see cref="Sampler"/> defines them and writes them back into the job (<see cref="Logprob"/>,
/// <see cref="TopLogprobs"/>).
/// </summary>
public sealed class SamplingJob
{
    private SamplingJob(int logitRow, SamplingParams parameters, double uniform, TokenAdjustment[] adjustments)
    {
        LogitRow = logitRow;
        Parameters = parameters;
        Uniform = uniform;
        Adjustments = adjustments;
    }

    /// <summary>The logit row of the step this draw reads.</summary>
    public int LogitRow { get; }

    /// <summary>The request's validated parameters.</summary>
    public SamplingParams Parameters { get; }

    /// <summary>The draw's uniform number in [0, 1): <see cref="SampleKey.NextUniform"/> of the draw's key (unused when greedy).</summary>
    public double Uniform { get; }

    /// <summary>Each token that a penalty or the logit bias touches, once, in no particular order.</summary>
    public IReadOnlyList<TokenAdjustment> Adjustments { get; }

    /// <summary>
    /// The drawn token's log probability once the device has drawn it, when <see cref="SamplingParams.Logprobs"/> is
    /// set (as <see cref="SampledToken.Logprob"/>: the log-softmax of the processed logits); NaN before the draw or without logprobs.
    /// </summary>
    public float Logprob { get; private set; } = float.NaN;

    /// <summary>
    /// The <see cref="SamplingParams.TopLogprobs"/> most likely tokens once the device has drawn (as
    /// <see cref="SampledToken.TopLogprobs"/>: best first, ties to the lowest id); empty before the draw or when none were asked for.
    /// </summary>
    public IReadOnlyList<TokenLogprob> TopLogprobs { get; private set; } = [];

    /// <summary>
    /// The one place that decides whether a draw may leave the host: not under a constraint (the grammar mask is
    /// computed on the host, per step). Everything else <see cref="SamplingParams"/> accepts runs on the device,
    /// logprobs and top_logprobs included (only the chosen token's and the top tokens' ids and logprobs come back).
    /// </summary>
    public static bool CanRunOnDevice(SamplingParams parameters, bool constrained)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return !constrained;
    }

    /// <summary>The device sampler's answer for a job that asked for logprobs.</summary>
    internal void SetLogprobs(float logprob, TokenLogprob[] top)
    {
        Logprob = logprob;
        TopLogprobs = top;
    }

    /// <summary>
    /// The job for one draw: the token adjustments of <see cref="Sampler"/>'s penalty and bias steps (a token seen
    /// in the prompt or output gets the repetition penalty; one in the output gets the frequency penalty per
    /// occurrence and the presence penalty once; a biased token its bias), built from the distinct tokens only.
    /// </summary>
    /// <param name="logitRow">The row of the step's logits.</param>
    /// <param name="parameters">Validated parameters (<see cref="CanRunOnDevice"/> true).</param>
    /// <param name="promptTokens">The prompt.</param>
    /// <param name="outputTokens">Tokens generated so far.</param>
    /// <param name="key">The draw's key, as the host sampler would use it.</param>
    /// <param name="vocab">Logits per row: tokens outside it are ignored, as the host sampler ignores them.</param>
    public static SamplingJob Create(int logitRow, SamplingParams parameters, ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> outputTokens, SampleKey key, int vocab)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var tokens = new Dictionary<int, TokenAdjustment>();
        if (parameters.RepetitionPenalty != 1f)
        {
            Mark(tokens, promptTokens, vocab, counts: false);
            Mark(tokens, outputTokens, vocab, counts: false);
        }

        if (parameters.FrequencyPenalty != 0f || parameters.PresencePenalty != 0f)
        {
            Mark(tokens, outputTokens, vocab, counts: true);
        }

        foreach (var (token, bias) in parameters.LogitBias ?? new Dictionary<int, float>())
        {
            if ((uint)token < (uint)vocab)
            {
                tokens[token] = (tokens.TryGetValue(token, out var a) ? a : new TokenAdjustment(token, 0, false, 0f, false)) with { Bias = bias, HasBias = true };
            }
        }

        double uniform = parameters.IsGreedy ? 0 : key.NextUniform();
        return new SamplingJob(logitRow, parameters, uniform, [.. tokens.Values]);
    }

    private static void Mark(Dictionary<int, TokenAdjustment> tokens, ReadOnlySpan<int> source, int vocab, bool counts)
    {
        foreach (int t in source)
        {
            if ((uint)t >= (uint)vocab)
            {
                continue;
            }

            var a = tokens.TryGetValue(t, out var found) ? found : new TokenAdjustment(t, 0, false, 0f, false);
            tokens[t] = counts ? a with { OutputCount = a.OutputCount + 1 } : a with { Repeated = true };
        }
    }
}

/// <summary>What <see cref="Sampler"/> does to one token's logit before temperature, in its order.</summary>
/// <param name="Token">The token id.</param>
/// <param name="OutputCount">Occurrences in the output, when a frequency or presence penalty is set (else 0): x -= frequency · count + presence.</param>
/// <param name="Repeated">Seen in the prompt or output, when a repetition penalty is set: x = x &gt; 0 ? x / penalty : x · penalty.</param>
/// <param name="Bias">The logit bias (when <paramref name="HasBias"/>): x += bias.</param>
/// <param name="HasBias">Whether the request biases this token.</param>
public readonly record struct TokenAdjustment(int Token, int OutputCount, bool Repeated, float Bias, bool HasBias);
