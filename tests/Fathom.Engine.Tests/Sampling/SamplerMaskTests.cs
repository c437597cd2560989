using Fathom.Engine.Sampling;

namespace Fathom.Engine.Tests.Sampling;

public sealed class SamplerMaskTests
{
    private static float[] RandomLogits(int vocab, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, vocab).Select(_ => (float)((random.NextDouble() * 8) - 4))];
    }

    private static ulong[] MaskOf(int vocab, params int[] tokens)
    {
        var mask = new ulong[TokenMask.WordsFor(vocab)];
        foreach (int t in tokens)
        {
            TokenMask.Allow(mask, t);
        }

        return mask;
    }

    [Fact]
    public void Greedy_picks_the_best_allowed_token_not_the_best_token()
    {
        var logits = RandomLogits(300, 3);
        int best = Array.IndexOf(logits, logits.Max());
        int[] allowed = [.. Enumerable.Range(0, 300).Where(t => t != best && t % 7 == 2)];
        int expected = allowed.MaxBy(t => logits[t]);
        var token = new Sampler().Sample(logits, new SamplingParams { Temperature = 0 }, [], [], default, MaskOf(300, allowed));
        Assert.Equal(expected, token.TokenId);
    }

    [Theory]
    [InlineData(1f, 0, 1f, 0f)]
    [InlineData(0.7f, 5, 1f, 0f)]
    [InlineData(1.3f, 0, 0.5f, 0f)]
    [InlineData(1f, 40, 0.9f, 0.05f)]
    public void Random_draws_only_ever_return_allowed_tokens(float temperature, int topK, float topP, float minP)
    {
        var sampler = new Sampler();
        var p = new SamplingParams { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP };
        int[] allowed = [5, 64, 65, 127, 128, 200, 299];
        var mask = MaskOf(300, allowed);
        var drawn = new HashSet<int>();
        for (int step = 0; step < 500; step++)
        {
            var logits = RandomLogits(300, step);
            drawn.Add(sampler.Sample(logits, p, [], [], new SampleKey(9, 0, step), mask).TokenId);
        }

        Assert.Subset(allowed.ToHashSet(), drawn);
        Assert.True(drawn.Count > 1, "a random draw over several allowed tokens should not always pick the same one");
    }

    [Fact]
    public void Logprobs_are_a_distribution_over_the_allowed_tokens_only()
    {
        var logits = RandomLogits(200, 11);
        int[] allowed = [3, 50, 51, 199];
        var token = new Sampler().Sample(logits, new SamplingParams { Temperature = 1, Logprobs = true, TopLogprobs = 10 }, [], [],
            new SampleKey(1, 0, 0), MaskOf(200, allowed));
        Assert.Contains(token.TokenId, allowed);
        // Only the allowed tokens have probability: the top list's others are -inf, and the allowed ones sum to 1.
        var finite = token.TopLogprobs.Where(t => float.IsFinite(t.Logprob)).ToList();
        Assert.Equal(allowed.Order(), finite.Select(t => t.TokenId).Order());
        Assert.Equal(1.0, finite.Sum(t => Math.Exp(t.Logprob)), 4);
        double z = allowed.Sum(t => Math.Exp(logits[t]));
        Assert.Equal(Math.Log(Math.Exp(logits[token.TokenId]) / z), token.Logprob, 4);
    }

    [Fact]
    public void Logit_bias_and_penalties_apply_before_the_mask_and_cannot_bring_back_an_excluded_token()
    {
        var logits = new float[70];
        logits[1] = 5f;
        logits[2] = 4f;
        logits[66] = 0f;
        var greedy = new SamplingParams { Temperature = 0, LogitBias = new Dictionary<int, float> { [66] = 100f, [0] = 100f } };
        // The bias lifts 66 (allowed) above 1 and 2; token 0 has the largest biased logit but is excluded.
        Assert.Equal(66, new Sampler().Sample(logits, greedy, [], [], default, MaskOf(70, 1, 2, 66)).TokenId);

        // A presence penalty on token 1 (already in the output) lets 2 win among the allowed {1, 2}.
        var penalized = new SamplingParams { Temperature = 0, PresencePenalty = 2f };
        Assert.Equal(2, new Sampler().Sample(logits, penalized, [], [1], default, MaskOf(70, 1, 2)).TokenId);
    }

    [Fact]
    public void When_every_allowed_logit_is_broken_the_first_allowed_token_is_taken()
    {
        var logits = new float[130];
        logits[0] = 3f;
        logits[129] = float.NaN;
        logits[70] = float.NaN;
        var token = new Sampler().Sample(logits, new SamplingParams { Temperature = 0, Logprobs = true }, [], [], default, MaskOf(130, 70, 129));
        Assert.Equal(70, token.TokenId);
        Assert.Equal(0f, token.Logprob, 1e-5f);
    }

    [Fact]
    public void A_mask_that_allows_nothing_is_an_error_not_a_silent_pick()
    {
        var logits = RandomLogits(100, 2);
        Assert.Throws<ArgumentException>(() => new Sampler().Sample(logits, new SamplingParams(), [], [], default, new ulong[2]));
        // Bits beyond the row do not count as allowed tokens.
        var beyond = new ulong[2];
        beyond[1] = 1UL << 40; // token 104 > 99
        Assert.Throws<ArgumentException>(() => new Sampler().Sample(logits, new SamplingParams(), [], [], default, beyond));
    }

    [Fact]
    public void An_empty_mask_means_unconstrained_and_samples_as_before()
    {
        var sampler = new Sampler();
        for (int step = 0; step < 50; step++)
        {
            var logits = RandomLogits(500, step);
            var key = new SampleKey(5, 0, step);
            var p = new SamplingParams { Temperature = 0.8f, TopP = 0.9f };
            Assert.Equal(sampler.Sample(logits, p, [], [], key).TokenId, sampler.Sample(logits, p, [], [], key, default).TokenId);
            var all = new ulong[TokenMask.WordsFor(500)];
            Array.Fill(all, ulong.MaxValue);
            Assert.Equal(sampler.Sample(logits, p, [], [], key).TokenId, sampler.Sample(logits, p, [], [], key, all).TokenId);
        }
    }
}
