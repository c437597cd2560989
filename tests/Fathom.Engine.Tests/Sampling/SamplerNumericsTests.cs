using Fathom.Engine.Sampling;

namespace Fathom.Engine.Tests.Sampling;

/// <summary>
/// Extreme but valid sampling settings and broken logit rows: the sampler must return a token in the vocabulary,
/// never throw, and never pick a token the model gave no finite logit while another has one.
/// </summary>
public sealed class SamplerNumericsTests
{
    private static readonly float[] Temperatures = [0f, 1e-30f, 1e-6f, 1e-5f, 1e-3f, 0.7f, 1f, 2f, 1e6f, float.MaxValue];
    private static readonly int[] TopKs = [-1, 0, 1, 2, 3, 50, int.MaxValue];
    private static readonly float[] TopPs = [float.Epsilon, 1e-30f, 1e-6f, 0.5f, 0.9f, 0.999999f, 1f];
    private static readonly float[] MinPs = [0f, float.Epsilon, 1e-6f, 0.5f, 0.999999f, 1f];
    private static readonly float[] RepetitionPenalties = [float.Epsilon, 1e-38f, 1e-30f, 1e-6f, 0.5f, 1f, 1.3f, 1e6f, 1e30f, float.MaxValue];
    private static readonly float[] Penalties = [-2f, -1e-6f, 0f, 0.5f, 2f];
    private static readonly float[] Biases = [-100f, -1e-3f, 0f, 50f, 100f];
    private static readonly float[] Specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue, 1e30f, -1e30f, 0f];

    private static T Pick<T>(Random random, T[] values) => values[random.Next(values.Length)];

    private static float[] Logits(Random random, int vocab)
    {
        var logits = new float[vocab];
        int style = random.Next(6);
        for (int i = 0; i < vocab; i++)
        {
            logits[i] = style switch
            {
                0 => (float)((random.NextDouble() * 20) - 10),
                1 => random.Next(4) == 0 ? Pick(random, Specials) : (float)((random.NextDouble() * 20) - 10),
                2 => Pick(random, Specials),
                3 => float.NaN,
                4 => random.Next(2) == 0 ? float.NegativeInfinity : float.NaN,
                _ => (float)((random.NextDouble() - 0.5) * 1e38),
            };
        }

        return logits;
    }

    private static SamplingParams RandomParams(Random random, int vocab)
    {
        bool logprobs = random.Next(2) == 0;
        var bias = new Dictionary<int, float>();
        for (int i = random.Next(4); i > 0; i--)
            bias[random.Next(vocab)] = Pick(random, Biases);
        return new SamplingParams
        {
            Temperature = Pick(random, Temperatures),
            TopK = Pick(random, TopKs),
            TopP = Pick(random, TopPs),
            MinP = Pick(random, MinPs),
            RepetitionPenalty = Pick(random, RepetitionPenalties),
            FrequencyPenalty = Pick(random, Penalties),
            PresencePenalty = Pick(random, Penalties),
            LogitBias = bias,
            Logprobs = logprobs,
            TopLogprobs = logprobs ? random.Next(SamplingParams.MaxTopLogprobs + 1) : 0,
        };
    }

    private static int[] Tokens(Random random, int vocab) =>
        [.. Enumerable.Range(0, random.Next(12)).Select(_ => random.Next(vocab))];

    private static void AssertValid(float[] logits, SampledToken result, SamplingParams p)
    {
        Assert.InRange(result.TokenId, 0, logits.Length - 1);
        if (logits.Any(float.IsFinite) || logits.Contains(float.NegativeInfinity))
        {
            // A token the model gave NaN or +Inf is never chosen while some other token is usable.
            bool anyUsable = logits.Any(float.IsFinite);
            if (anyUsable)
                Assert.True(float.IsFinite(logits[result.TokenId]), $"chose token {result.TokenId} with logit {logits[result.TokenId]}");
        }

        if (p.Logprobs)
        {
            Assert.False(float.IsNaN(result.Logprob), "NaN logprob");
            Assert.True(result.Logprob <= 0, $"logprob {result.Logprob} > 0");
            Assert.All(result.TopLogprobs, t => Assert.False(float.IsNaN(t.Logprob)));
            Assert.All(result.TopLogprobs, t => Assert.InRange(t.TokenId, 0, logits.Length - 1));
        }
    }

    [Fact]
    public void Thousands_of_extreme_valid_settings_over_broken_rows_always_give_a_token()
    {
        var random = new Random(20261207);
        var sampler = new Sampler();
        for (int trial = 0; trial < 5000; trial++)
        {
            int vocab = 1 + random.Next(random.Next(4) == 0 ? 3000 : 40);
            float[] logits = Logits(random, vocab);
            SamplingParams p = RandomParams(random, vocab);
            p.Validate(vocab);
            SampledToken result;
            try
            {
                result = sampler.Sample(logits, p, Tokens(random, vocab), Tokens(random, vocab), new SampleKey(trial, 0, trial));
            }
            catch (Exception e)
            {
                Assert.Fail($"trial {trial} threw {e.GetType().Name}: {e.Message}; {p}; logits [{string.Join(", ", logits.Take(20))}]");
                throw;
            }

            AssertValid(logits, result, p);
        }
    }

    [Theory]
    [InlineData(1e-30f)]
    [InlineData(1e-38f)]
    [InlineData(float.Epsilon)]
    public void A_tiny_repetition_penalty_with_top_k_and_min_p_picks_the_repeated_token(float penalty)
    {
        // The reported case: dividing positive logits by a tiny penalty makes them +Inf, and +Inf - +Inf = NaN
        // weights used to filter every candidate out, and the sampler indexed an empty set.
        float[] logits = [1f, 3f, 2f, -1f, 0.5f];
        var p = new SamplingParams { Temperature = 0.8f, TopK = 3, MinP = 0.1f, RepetitionPenalty = penalty, Logprobs = true, TopLogprobs = 3 };
        p.Validate(logits.Length);
        var sampler = new Sampler();
        for (int step = 0; step < 50; step++)
        {
            SampledToken result = sampler.Sample(logits, p, [2], [4, 3], new SampleKey(1, 0, step));
            // Token 2 (logit 2 > 0) becomes +Inf: overwhelmingly likely. Token 4's positive logit too: they tie.
            Assert.Contains(result.TokenId, new[] { 2, 4 });
            Assert.False(float.IsNaN(result.Logprob));
        }

        Assert.Contains(sampler.Sample(logits, p with { Temperature = 0 }, [2], [4, 3], default).TokenId, new[] { 2, 4 });
    }

    [Fact]
    public void Two_tokens_made_infinite_share_the_draw()
    {
        float[] logits = [1f, 3f, 2f];
        var p = new SamplingParams { RepetitionPenalty = float.Epsilon }; // 1 / 1.4e-45 and 2 / 1.4e-45 are both +Inf
        var sampler = new Sampler();
        var drawn = new HashSet<int>();
        for (int step = 0; step < 200; step++)
            drawn.Add(sampler.Sample(logits, p, [0, 2], [], new SampleKey(3, 0, step)).TokenId);
        Assert.Equal([0, 2], drawn.Order());
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void Nan_and_infinite_logits_from_the_model_are_never_chosen(float temperature)
    {
        float[] logits = [float.NaN, float.PositiveInfinity, 0.5f, float.NaN, 2f, float.NegativeInfinity];
        var p = new SamplingParams { Temperature = temperature, TopK = 2, TopP = 0.9f, Logprobs = true, TopLogprobs = 2 };
        var sampler = new Sampler();
        for (int step = 0; step < 50; step++)
        {
            SampledToken result = sampler.Sample(logits, p, [], [], new SampleKey(5, 0, step));
            Assert.Contains(result.TokenId, new[] { 2, 4 });
            Assert.InRange(result.Logprob, float.NegativeInfinity, 0f);
        }

        Assert.Equal(4, sampler.Sample(logits, new SamplingParams { Temperature = 0 }, [], [], default).TokenId);
    }

    [Fact]
    public void A_row_with_no_finite_logit_gives_token_0()
    {
        float[] logits = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        var sampler = new Sampler();
        Assert.Equal(0, sampler.Sample(logits, new SamplingParams { Temperature = 0 }, [], [], default).TokenId);
        SampledToken result = sampler.Sample(logits, new SamplingParams { TopK = 2, MinP = 0.5f, Logprobs = true }, [], [], new SampleKey(1, 0, 0));
        Assert.Equal(0, result.TokenId);
        Assert.Equal(0f, result.Logprob, 1e-5f);
    }

    [Fact]
    public void When_processing_leaves_no_weight_the_models_most_likely_finite_token_is_taken()
    {
        // -3e38 * 1e30 overflows to -Inf for every token: the model's own ranking decides.
        float[] logits = [-3e38f, -1e38f, -2e38f];
        var p = new SamplingParams { RepetitionPenalty = 1e30f };
        Assert.Equal(1, new Sampler().Sample(logits, p, [0, 1, 2], [], new SampleKey(1, 0, 0)).TokenId);
        Assert.Equal(1, new Sampler().Sample(logits, p with { Temperature = 0 }, [0, 1, 2], [], default).TokenId);
    }

    [Theory]
    [InlineData(int.MaxValue, 1f, 0f)]
    [InlineData(1_000_000, 1e-30f, 1f)]
    [InlineData(0, float.Epsilon, 0f)]
    [InlineData(-1, 1f, 1f)]
    public void Filters_at_their_extremes_keep_the_most_likely_token(int topK, float topP, float minP)
    {
        float[] logits = [0.1f, 5f, 0.3f, 5f - 1e-6f];
        var p = new SamplingParams { TopK = topK, TopP = topP, MinP = minP };
        p.Validate(logits.Length);
        var sampler = new Sampler();
        for (int step = 0; step < 20; step++)
            Assert.InRange(sampler.Sample(logits, p, [], [], new SampleKey(9, 0, step)).TokenId, 0, 3);
        if (topP < 1e-6f || minP >= 1f)
            Assert.Equal(1, sampler.Sample(logits, p, [], [], new SampleKey(9, 0, 0)).TokenId);
    }

    [Fact]
    public void A_tiny_temperature_is_greedy()
    {
        float[] logits = [1f, 4f, 3.9999f, -2f];
        for (int step = 0; step < 20; step++)
            Assert.Equal(1, new Sampler().Sample(logits, new SamplingParams { Temperature = 1e-30f, TopK = 2 }, [], [], new SampleKey(4, 0, step)).TokenId);
    }

    [Fact]
    public void Huge_logits_at_the_smallest_sampling_temperature_do_not_break_the_draw()
    {
        // 1e36 / 1e-5 overflows to +Inf after temperature: still the top token.
        float[] logits = [1e36f, -1e36f, 0f];
        var p = new SamplingParams { Temperature = 1e-5f, MinP = 0.2f, Logprobs = true };
        SampledToken result = new Sampler().Sample(logits, p, [], [], new SampleKey(2, 0, 0));
        Assert.Equal(0, result.TokenId);
        Assert.Equal(0f, result.Logprob, 1e-5f);
    }

    public static TheoryData<string, SamplingParams> NonFinite => new()
    {
        { "temperature", new SamplingParams { Temperature = float.NaN } },
        { "temperature", new SamplingParams { Temperature = float.PositiveInfinity } },
        { "top_p", new SamplingParams { TopP = float.NaN } },
        { "top_p", new SamplingParams { TopP = 1.0000001f } },
        { "min_p", new SamplingParams { MinP = float.NaN } },
        { "min_p", new SamplingParams { MinP = -float.Epsilon } },
        { "repetition_penalty", new SamplingParams { RepetitionPenalty = float.NaN } },
        { "repetition_penalty", new SamplingParams { RepetitionPenalty = float.PositiveInfinity } },
        { "repetition_penalty", new SamplingParams { RepetitionPenalty = -1f } },
        { "frequency_penalty", new SamplingParams { FrequencyPenalty = float.NaN } },
        { "frequency_penalty", new SamplingParams { FrequencyPenalty = float.NegativeInfinity } },
        { "presence_penalty", new SamplingParams { PresencePenalty = float.NaN } },
        { "presence_penalty", new SamplingParams { PresencePenalty = 2.0001f } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [1] = float.NaN } } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [1] = float.PositiveInfinity } } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [-1] = 1 } } },
        { "top_k", new SamplingParams { TopK = int.MinValue } },
        { "top_logprobs", new SamplingParams { Logprobs = true, TopLogprobs = -1 } },
        { "top_logprobs", new SamplingParams { Logprobs = false, TopLogprobs = 1 } },
        { "n", new SamplingParams { N = SamplingParams.MaxN + 1 } },
        { "max_tokens", new SamplingParams { MaxTokens = -5 } },
    };

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Out_of_range_and_non_finite_values_are_rejected_naming_the_field(string name, SamplingParams p)
    {
        var error = Assert.Throws<InvalidSamplingParameterException>(() => p.Validate(vocabSize: 50));
        Assert.Equal(name, error.ParamName);
    }

    public static TheoryData<SamplingParams> Boundaries => new()
    {
        new SamplingParams { Temperature = 0, TopK = -1, TopP = float.Epsilon, MinP = 1, RepetitionPenalty = float.Epsilon },
        new SamplingParams { Temperature = float.MaxValue, TopK = int.MaxValue, TopP = 1, MinP = 0, RepetitionPenalty = float.MaxValue },
        new SamplingParams { FrequencyPenalty = -2, PresencePenalty = 2, LogitBias = new Dictionary<int, float> { [0] = -100, [49] = 100 } },
        new SamplingParams { Seed = long.MinValue, N = SamplingParams.MaxN, MaxTokens = 1, Logprobs = true, TopLogprobs = SamplingParams.MaxTopLogprobs },
    };

    [Theory]
    [MemberData(nameof(Boundaries))]
    public void The_ends_of_every_range_are_accepted(SamplingParams p) => p.Validate(vocabSize: 50);
}
