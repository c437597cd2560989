using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.Sampling;
using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The device sampler against the host <see cref="Sampler"/> (the oracle): for random logit rows — with ties, -inf
/// logits, a row of nothing but -inf — and parameter sets covering every step, the device draws the token the host
/// draws with the same uniform number. Runs on a 32-lane (one group of 4 warps) and a 4-lane CPU accelerator.
/// </summary>
public sealed class DeviceSamplingTests : IClassFixture<IlgpuCpuDevice>
{
    private const int Vocab = 300; // not a multiple of any group size
    private readonly IlgpuCpuDevice _device;

    public DeviceSamplingTests(IlgpuCpuDevice device) => _device = device;

    /// <summary>Parameter sets, each named for what it exercises; penalties come with a prompt and an output that repeat tokens.</summary>
    public static TheoryData<string> Cases => [.. ParameterSets().Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Device_draws_the_host_samplers_token_on_a_32_lane_device(string name) =>
        AssertSameTokens(_device.Device, ParameterSets()[name], seeds: 2);

    [Fact]
    public void Device_draws_the_host_samplers_token_on_a_4_lane_device()
    {
        using var device = IlgpuDevice.OpenCpu();
        foreach (var parameters in ParameterSets().Values)
        {
            AssertSameTokens(device, parameters, seeds: 2);
        }
    }

    [Fact]
    public void Forked_draws_of_one_row_use_their_own_keys_and_may_differ()
    {
        // n > 1 at the end of a prompt: several jobs read the same logit row (the device keeps a processed copy per job).
        var parameters = new SamplingParams { Temperature = 1.5f, Seed = 3 };
        var row = Rows(new Random(5))[0];
        var jobs = Enumerable.Range(0, 12).Select(i => SamplingJob.Create(0, parameters, [], [], new SampleKey(3, i, 0), Vocab)).ToArray();
        var tokens = Draw(_device.Device, [row], jobs);
        var sampler = new Sampler();
        for (var i = 0; i < jobs.Length; i++)
        {
            Assert.Equal(sampler.Sample(row, parameters, [], [], new SampleKey(3, i, 0)).TokenId, tokens[i]);
        }

        Assert.True(tokens.Distinct().Count() > 1, "a flat row drawn 12 times at temperature 1.5 gave one token");
    }

    [Fact]
    public void Only_constraints_keep_a_draw_on_the_host()
    {
        Assert.True(SamplingJob.CanRunOnDevice(new SamplingParams { TopK = 5, TopP = 0.5f, MinP = 0.1f, RepetitionPenalty = 1.2f }, constrained: false));
        Assert.True(SamplingJob.CanRunOnDevice(new SamplingParams { Logprobs = true, TopLogprobs = SamplingParams.MaxTopLogprobs }, constrained: false));
        Assert.False(SamplingJob.CanRunOnDevice(new SamplingParams(), constrained: true));
        Assert.False(SamplingJob.CanRunOnDevice(new SamplingParams { Logprobs = true }, constrained: true));
    }

    private static Dictionary<string, SamplingParams> ParameterSets()
    {
        var bias = new Dictionary<int, float> { [3] = 100f, [17] = -100f, [40] = 5.5f, [299] = -3f };
        return new Dictionary<string, SamplingParams>(StringComparer.Ordinal)
        {
            ["greedy"] = new() { Temperature = 0 },
            ["greedy_penalties_bias"] = new() { Temperature = 0, RepetitionPenalty = 1.8f, FrequencyPenalty = 1.5f, PresencePenalty = 0.7f, LogitBias = bias },
            ["temperature_1"] = new(),
            ["temperature_0.6"] = new() { Temperature = 0.6f },
            ["temperature_2.5"] = new() { Temperature = 2.5f },
            ["top_k_1"] = new() { Temperature = 1.7f, TopK = 1 },
            ["top_k_20_temperature_0.7"] = new() { Temperature = 0.7f, TopK = 20 },
            ["top_k_beyond_vocab"] = new() { Temperature = 1.2f, TopK = Vocab + 5 },
            ["top_p_tiny"] = new() { Temperature = 1.3f, TopP = 1e-6f },
            ["top_p_0.9_temperature_0.5"] = new() { Temperature = 0.5f, TopP = 0.9f },
            ["top_p_0.6_temperature_1.8"] = new() { Temperature = 1.8f, TopP = 0.6f },
            ["top_k_50_top_p_0.8"] = new() { Temperature = 1.4f, TopK = 50, TopP = 0.8f },
            ["min_p_0.1"] = new() { Temperature = 1.1f, MinP = 0.1f },
            ["top_p_min_p"] = new() { Temperature = 0.9f, TopP = 0.95f, MinP = 0.05f },
            ["top_k_min_p"] = new() { Temperature = 2f, TopK = 64, MinP = 0.2f },
            ["repetition_penalty"] = new() { Temperature = 0.8f, RepetitionPenalty = 1.6f, TopK = 30 },
            ["frequency_presence"] = new() { Temperature = 0.9f, FrequencyPenalty = 2f, PresencePenalty = 1.5f, TopP = 0.9f },
            ["all_penalties_bias"] = new() { Temperature = 1.2f, RepetitionPenalty = 0.7f, FrequencyPenalty = -1f, PresencePenalty = 0.5f, LogitBias = bias, MinP = 0.02f },
            ["logit_bias_only"] = new() { Temperature = 0.7f, LogitBias = bias },
        };
    }

    private static void AssertSameTokens(IlgpuDevice device, SamplingParams parameters, int seeds)
    {
        var random = new Random(11);
        var rows = Rows(random);
        int[] prompt = [5, 9, 9, 40, 17, 120, 250, 5];
        int[] output = [9, 33, 33, 33, 120, 3, 200, 299, 33];
        var jobs = new List<SamplingJob>();
        var expected = new List<int>();
        var sampler = new Sampler();
        for (var r = 0; r < rows.Length; r++)
        {
            for (var s = 0; s < seeds; s++)
            {
                var key = new SampleKey(1000 + s, r, output.Length);
                jobs.Add(SamplingJob.Create(r, parameters, prompt, output, key, Vocab));
                expected.Add(sampler.Sample(rows[r], parameters, prompt, output, key).TokenId);
            }
        }

        var actual = Draw(device, rows, jobs);
        Assert.Equal(expected, actual);
    }

    /// <summary>A standard normal draw (Box–Muller), for the test rows.</summary>
    internal static float Normal(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

    // Peaked, flat, tied (values on a 0.5 grid), with -inf logits, top-tied, and all -inf (Vocab wide).
    internal static float[][] Rows(Random random)
    {
        float Normal() => DeviceSamplingTests.Normal(random);
        var peaked = Enumerable.Range(0, Vocab).Select(_ => 4 * Normal()).ToArray();
        var flat = Enumerable.Range(0, Vocab).Select(_ => 0.3f * Normal()).ToArray();
        var tied = Enumerable.Range(0, Vocab).Select(_ => MathF.Round(2 * Normal()) / 2).ToArray();
        var holes = Enumerable.Range(0, Vocab).Select(i => i % 7 == 0 ? float.NegativeInfinity : 2 * Normal()).ToArray();
        var topTied = Enumerable.Range(0, Vocab).Select(i => i is 33 or 120 or 250 ? 6f : Normal()).ToArray();
        var dead = Enumerable.Repeat(float.NegativeInfinity, Vocab).ToArray();
        return [peaked, flat, tied, holes, topTied, dead];
    }

    private static int[] Draw(IlgpuDevice device, float[][] rows, IReadOnlyList<SamplingJob> jobs)
    {
        var flat = rows.SelectMany(r => r).ToArray();
        using var logits = device.Accelerator.Allocate1D(flat);
        using var sampler = new DeviceSampler(device.Accelerator, device.Sampling);
        var tokens = new int[jobs.Count];
        sampler.Sample(logits.View, Vocab, jobs, tokens);
        return tokens;
    }
}
