using Fathom.Engine.Sampling;

namespace Fathom.Engine.Tests.Sampling;

public sealed class SamplerTests
{
    private static readonly SamplingParams Greedy = new() { Temperature = 0 };

    private static float[] RandomLogits(int vocab, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, vocab).Select(_ => (float)((random.NextDouble() * 8) - 4))];
    }

    private static int Sample(float[] logits, SamplingParams p, int[]? prompt = null, int[]? output = null, SampleKey key = default) =>
        new Sampler().Sample(logits, p, prompt ?? [], output ?? [], key).TokenId;

    [Fact]
    public void Greedy_picks_the_largest_logit_and_ties_go_to_the_lowest_id()
    {
        float[] logits = [0.5f, 2f, -1f, 2f, 1.9f];
        Assert.Equal(1, Sample(logits, Greedy));
        var random = RandomLogits(1000, 1);
        Assert.Equal(Array.IndexOf(random, random.Max()), Sample(random, Greedy));
    }

    [Fact]
    public void Top_k_of_one_and_a_tiny_top_p_are_greedy_whatever_the_draw()
    {
        var sampler = new Sampler();
        for (int trial = 0; trial < 20; trial++)
        {
            var logits = RandomLogits(500, trial);
            int greedy = sampler.Sample(logits, Greedy, [], [], default).TokenId;
            var key = new SampleKey(trial, 0, trial);
            Assert.Equal(greedy, sampler.Sample(logits, new SamplingParams { Temperature = 1.5f, TopK = 1 }, [], [], key).TokenId);
            Assert.Equal(greedy, sampler.Sample(logits, new SamplingParams { Temperature = 1.5f, TopP = 1e-6f }, [], [], key).TokenId);
        }
    }

    [Fact]
    public void Top_k_and_min_p_restrict_the_draw_to_the_allowed_tokens()
    {
        var sampler = new Sampler();
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];
        var drawnTopK = new HashSet<int>();
        var drawnMinP = new HashSet<int>();
        for (int step = 0; step < 400; step++)
        {
            var key = new SampleKey(42, 0, step);
            drawnTopK.Add(sampler.Sample(logits, new SamplingParams { TopK = 2 }, [], [], key).TokenId);
            drawnMinP.Add(sampler.Sample(logits, new SamplingParams { MinP = 0.5f }, [], [], key).TokenId); // keeps p >= 0.25
        }

        Assert.Equal([0, 1], drawnTopK.Order());
        Assert.Equal([0, 1], drawnMinP.Order());
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_the_mass()
    {
        var sampler = new Sampler();
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];
        var drawn = new HashSet<int>();
        for (int step = 0; step < 400; step++)
        {
            drawn.Add(sampler.Sample(logits, new SamplingParams { TopP = 0.75f }, [], [], new SampleKey(7, 0, step)).TokenId);
        }

        Assert.Equal([0, 1], drawn.Order()); // 0.5 < 0.75 <= 0.5 + 0.3
    }

    [Theory]
    [InlineData(0.2f, 0.9f)]
    [InlineData(1.0f, 0.5f)]
    [InlineData(3.0f, 0.95f)]
    public void Top_p_over_a_large_vocabulary_draws_only_from_the_exact_nucleus(float temperature, float topP)
    {
        var logits = RandomLogits(20_000, 17);
        logits[123] = float.NegativeInfinity; // a banned token must never be drawn

        // Reference nucleus by a full sort: best first (ties: lowest id), shortest run reaching top_p of the mass.
        var scaled = logits.Select(v => (double)v / temperature).ToArray();
        double max = scaled.Max();
        var order = Enumerable.Range(0, scaled.Length).OrderByDescending(i => scaled[i]).ThenBy(i => i).ToList();
        double total = scaled.Sum(v => Math.Exp(v - max));
        var nucleus = new HashSet<int>();
        double cumulative = 0;
        foreach (int i in order)
        {
            if (nucleus.Count > 0 && cumulative >= topP * total)
            {
                break;
            }

            nucleus.Add(i);
            cumulative += Math.Exp(scaled[i] - max);
        }

        var sampler = new Sampler();
        var p = new SamplingParams { Temperature = temperature, TopP = topP };
        var drawn = Enumerable.Range(0, 300).Select(step => sampler.Sample(logits, p, [], [], new SampleKey(8, 0, step)).TokenId).ToList();
        Assert.All(drawn, token => Assert.Contains(token, nucleus));
        Assert.True(drawn.Distinct().Count() > 1);
    }

    [Fact]
    public void Draws_follow_the_distribution()
    {
        var sampler = new Sampler();
        float[] logits = [MathF.Log(0.7f), MathF.Log(0.3f)];
        int zeros = 0;
        const int Draws = 4000;
        for (int step = 0; step < Draws; step++)
        {
            zeros += sampler.Sample(logits, new SamplingParams(), [], [], new SampleKey(3, 0, step)).TokenId == 0 ? 1 : 0;
        }

        Assert.InRange(zeros / (double)Draws, 0.67, 0.73);
    }

    [Fact]
    public void Repetition_penalty_moves_the_argmax_off_a_repeated_token()
    {
        float[] logits = [2f, 1.5f, -1f];
        Assert.Equal(0, Sample(logits, Greedy));
        var penalized = Greedy with { RepetitionPenalty = 1.5f };
        Assert.Equal(1, Sample(logits, penalized, prompt: [0])); // 2 / 1.5 < 1.5
        Assert.Equal(0, Sample(logits, penalized, prompt: [1])); // 1.5 / 1.5 = 1 < 2

        float[] negative = [-1f, -1.2f];
        Assert.Equal(1, Sample(negative, penalized, output: [0])); // -1 * 1.5 = -1.5 < -1.2
    }

    [Fact]
    public void Frequency_penalty_counts_occurrences_and_presence_penalty_does_not()
    {
        float[] logits = [2f, 1f];
        int[] output = [0, 0, 0];
        Assert.Equal(1, Sample(logits, Greedy with { FrequencyPenalty = 0.5f }, output: output)); // 2 - 1.5 < 1
        Assert.Equal(0, Sample(logits, Greedy with { PresencePenalty = 0.5f }, output: output)); // 2 - 0.5 > 1
        Assert.Equal(1, Sample(logits, Greedy with { PresencePenalty = 1.5f }, output: output));
        Assert.Equal(0, Sample(logits, Greedy with { FrequencyPenalty = 2f }, prompt: [0, 0, 0])); // prompt tokens are not penalized
    }

    [Fact]
    public void Logit_bias_forces_or_bans_a_token()
    {
        var logits = RandomLogits(1000, 5);
        Assert.Equal(777, Sample(logits, new SamplingParams { LogitBias = new Dictionary<int, float> { [777] = 100 } }, key: new SampleKey(1, 0, 0)));
        int best = Array.IndexOf(logits, logits.Max());
        Assert.NotEqual(best, Sample(logits, Greedy with { LogitBias = new Dictionary<int, float> { [best] = -100 } }));
    }

    [Fact]
    public void A_draw_depends_only_on_seed_sequence_and_step()
    {
        var logits = RandomLogits(2000, 9);
        var p = new SamplingParams { Temperature = 1.2f, TopP = 0.95f };
        var sampler = new Sampler();
        var run1 = Enumerable.Range(0, 30).Select(step => sampler.Sample(logits, p, [], [], new SampleKey(1234, 0, step)).TokenId).ToList();

        // Interleave other requests' draws (another batch composition): the stream is unaffected.
        var run2 = new List<int>();
        for (int step = 0; step < 30; step++)
        {
            sampler.Sample(RandomLogits(2000, step), p, [], [], new SampleKey(step, 3, step));
            run2.Add(new Sampler().Sample(logits, p, [], [], new SampleKey(1234, 0, step)).TokenId);
        }

        Assert.Equal(run1, run2);
        var otherSeed = Enumerable.Range(0, 30).Select(step => sampler.Sample(logits, p, [], [], new SampleKey(99, 0, step)).TokenId);
        var otherSequence = Enumerable.Range(0, 30).Select(step => sampler.Sample(logits, p, [], [], new SampleKey(1234, 1, step)).TokenId);
        Assert.NotEqual(run1, otherSeed);
        Assert.NotEqual(run1, otherSequence);
    }

    [Fact]
    public void Logprobs_are_a_normalized_log_softmax_of_the_processed_logits()
    {
        var logits = RandomLogits(20, 11);
        var p = new SamplingParams { Temperature = 0.7f, Logprobs = true, TopLogprobs = 20, FrequencyPenalty = 0.3f };
        var result = new Sampler().Sample(logits, p, [], [3, 3], new SampleKey(5, 0, 0));
        Assert.Equal(20, result.TopLogprobs.Count);
        Assert.Equal(1.0, result.TopLogprobs.Sum(t => Math.Exp(t.Logprob)), 4);
        Assert.True(result.TopLogprobs.Zip(result.TopLogprobs.Skip(1)).All(pair => pair.First.Logprob >= pair.Second.Logprob));
        Assert.Equal(result.TopLogprobs.Single(t => t.TokenId == result.TokenId).Logprob, result.Logprob, 5);

        // Against a direct computation: (logit - penalty) / temperature, then log-softmax.
        var processed = logits.Select((x, i) => (i == 3 ? x - 0.6f : x) / 0.7f).ToArray();
        double logZ = Math.Log(processed.Sum(x => Math.Exp(x)));
        Assert.Equal(processed[result.TokenId] - logZ, result.Logprob, 4);
    }

    [Fact]
    public void Without_logprobs_none_are_computed()
    {
        var result = new Sampler().Sample(RandomLogits(10, 1), Greedy, [], [], default);
        Assert.True(float.IsNaN(result.Logprob));
        Assert.Empty(result.TopLogprobs);
    }

    [Fact]
    public void A_128k_vocabulary_samples_with_every_filter()
    {
        var logits = RandomLogits(128_256, 3);
        var sampler = new Sampler();
        var p = new SamplingParams { Temperature = 0.8f, TopK = 40, TopP = 0.9f, MinP = 0.05f, RepetitionPenalty = 1.1f, Logprobs = true, TopLogprobs = 5 };
        var topP = new SamplingParams { Temperature = 0.8f, TopP = 0.9f };
        for (int step = 0; step < 5; step++)
        {
            var result = sampler.Sample(logits, p, [1, 2, 3], [4], new SampleKey(1, 0, step));
            Assert.InRange(result.TokenId, 0, logits.Length - 1);
            Assert.Equal(5, result.TopLogprobs.Count);
            Assert.InRange(sampler.Sample(logits, topP, [], [], new SampleKey(1, 0, step)).TokenId, 0, logits.Length - 1);
        }
    }

    public static TheoryData<string> InvalidParameterNames =>
        ["temperature", "top_k", "top_p", "min_p", "repetition_penalty", "frequency_penalty", "presence_penalty",
         "logit_bias", "top_logprobs", "stop", "stop_token_ids", "max_tokens", "n"];

    [Theory]
    [MemberData(nameof(InvalidParameterNames))]
    public void Validation_names_the_bad_parameter(string name)
    {
        var p = name switch
        {
            "temperature" => new SamplingParams { Temperature = -0.1f },
            "top_k" => new SamplingParams { TopK = -2 },
            "top_p" => new SamplingParams { TopP = 0 },
            "min_p" => new SamplingParams { MinP = 1.5f },
            "repetition_penalty" => new SamplingParams { RepetitionPenalty = 0 },
            "frequency_penalty" => new SamplingParams { FrequencyPenalty = 2.5f },
            "presence_penalty" => new SamplingParams { PresencePenalty = -3f },
            "logit_bias" => new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = 101 } },
            "top_logprobs" => new SamplingParams { Logprobs = true, TopLogprobs = 21 },
            "stop" => new SamplingParams { Stop = [""] },
            "stop_token_ids" => new SamplingParams { StopTokenIds = [100] },
            "max_tokens" => new SamplingParams { MaxTokens = 0 },
            "n" => new SamplingParams { N = 0 },
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        var error = Assert.Throws<InvalidSamplingParameterException>(() => p.Validate(vocabSize: 50));
        Assert.Equal(name, error.ParamName);
        Assert.Contains(name, error.Message);
        Assert.DoesNotContain("(Parameter", error.Message);
    }

    [Fact]
    public void Defaults_are_valid() => new SamplingParams().Validate(10);
}
