using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.Sampling;
using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// Logprobs on the device against the host <see cref="Sampler"/> (the oracle): for logit rows with ties, -inf
/// holes, a dominant first and last token and a row of nothing but -inf, and parameter sets with top_logprobs
/// 0/1/5/20 under greedy and seeded draws, temperature, penalties, bias and truncation, the device returns the
/// host's token, the host's top ids in the host's order, and logprobs within <see cref="Tolerance"/> of the host's.
/// Runs on a 32-lane and a 4-lane CPU accelerator.
/// </summary>
public sealed class DeviceLogprobTests(IlgpuCpuDevice device, ITestOutputHelper output) : IClassFixture<IlgpuCpuDevice>
{
    private const int Vocab = 300;

    /// <summary>
    /// The largest |device − host| allowed for a logprob of <paramref name="expected"/>. The processed logits are the
    /// same floats on both; only the normaliser differs (f32 sums in another order, the device's exp and log), and a
    /// difference of logZ shows up rounded to the logprob's own ulp. Measured: at most 9.5e-7 (one f32 ulp between 8
    /// and 16) here and on a model's rows (<see cref="DeviceSamplingEngineTests"/>); the bound is 4e-6 plus two ulps of
    /// the value, as large-magnitude logprobs round more coarsely.
    /// </summary>
    internal static float Tolerance(float expected) => 4e-6f + (2.4e-7f * MathF.Abs(expected));

    /// <summary>Parameter sets, each named for what it exercises.</summary>
    public static TheoryData<string> Cases => [.. ParameterSets().Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Device_logprobs_match_the_host_samplers_on_a_32_lane_device(string name) =>
        output.WriteLine($"{name}: max |device - host| = {AssertSameLogprobs(device.Device, ParameterSets()[name]):E2}");

    [Fact]
    public void Device_logprobs_match_the_host_samplers_on_a_4_lane_device()
    {
        using var fourLanes = IlgpuDevice.OpenCpu();
        var worst = 0f;
        foreach (var parameters in ParameterSets().Values)
        {
            worst = MathF.Max(worst, AssertSameLogprobs(fourLanes, parameters));
        }

        output.WriteLine($"max |device - host| = {worst:E2}");
    }

    [Fact]
    public void Draws_without_logprobs_come_back_without_them_beside_draws_with_them()
    {
        var rows = Rows(new Random(3));
        var plain = SamplingJob.Create(0, new SamplingParams { Temperature = 0.8f }, [], [], new SampleKey(1, 0, 0), Vocab);
        var asked = SamplingJob.Create(1, new SamplingParams { Temperature = 0.8f, Logprobs = true, TopLogprobs = 3 }, [], [], new SampleKey(1, 0, 0), Vocab);
        var onlyChosen = SamplingJob.Create(2, new SamplingParams { Temperature = 0, Logprobs = true }, [], [], default, Vocab);
        Draw(device.Device, rows, [plain, asked, onlyChosen]);
        Assert.True(float.IsNaN(plain.Logprob));
        Assert.Empty(plain.TopLogprobs);
        Assert.True(asked.Logprob <= 0);
        Assert.Equal(3, asked.TopLogprobs.Count);
        Assert.True(onlyChosen.Logprob <= 0);
        Assert.Empty(onlyChosen.TopLogprobs);
    }

    private static Dictionary<string, SamplingParams> ParameterSets()
    {
        var bias = new Dictionary<int, float> { [3] = 100f, [17] = -100f, [40] = 5.5f, [299] = -3f };
        return new Dictionary<string, SamplingParams>(StringComparer.Ordinal)
        {
            ["greedy_top_0"] = new() { Temperature = 0, Logprobs = true },
            ["greedy_top_20"] = new() { Temperature = 0, Logprobs = true, TopLogprobs = 20 },
            ["greedy_penalties_bias_top_5"] = new() { Temperature = 0, RepetitionPenalty = 1.8f, FrequencyPenalty = 1.5f, PresencePenalty = 0.7f, LogitBias = bias, Logprobs = true, TopLogprobs = 5 },
            ["seeded_top_1"] = new() { Seed = 4, Logprobs = true, TopLogprobs = 1 },
            ["temperature_0.6_top_5"] = new() { Temperature = 0.6f, Logprobs = true, TopLogprobs = 5 },
            ["temperature_2.5_top_20"] = new() { Temperature = 2.5f, Logprobs = true, TopLogprobs = 20 },
            ["top_k_top_p_min_p_top_20"] = new() { Temperature = 1.3f, TopK = 40, TopP = 0.8f, MinP = 0.05f, Logprobs = true, TopLogprobs = 20 },
            ["top_p_top_5"] = new() { Temperature = 0.9f, TopP = 0.9f, Logprobs = true, TopLogprobs = 5 },
            ["all_penalties_bias_top_20"] = new() { Temperature = 1.2f, RepetitionPenalty = 0.7f, FrequencyPenalty = -1f, PresencePenalty = 0.5f, LogitBias = bias, Logprobs = true, TopLogprobs = 20 },
            ["tiny_repetition_penalty_top_5"] = new() { Temperature = 0.7f, RepetitionPenalty = 1e-38f, Logprobs = true, TopLogprobs = 5 },
        };
    }

    // The largest |device - host| over every finite logprob compared.
    private static float AssertSameLogprobs(IlgpuDevice on, SamplingParams parameters)
    {
        var rows = Rows(new Random(11));
        int[] prompt = [5, 9, 9, 40, 17, 120, 250, 5];
        int[] output = [9, 33, 33, 33, 120, 3, 200, 299, 33];
        var jobs = new List<SamplingJob>();
        var expected = new List<SampledToken>();
        var sampler = new Sampler();
        for (var r = 0; r < rows.Length; r++)
        {
            for (var s = 0; s < 2; s++)
            {
                var key = new SampleKey(1000 + s, r, output.Length);
                jobs.Add(SamplingJob.Create(r, parameters, prompt, output, key, Vocab));
                expected.Add(sampler.Sample(rows[r], parameters, prompt, output, key));
            }
        }

        var tokens = Draw(on, rows, jobs);
        var worst = 0f;
        for (var j = 0; j < jobs.Count; j++)
        {
            var host = expected[j];
            Assert.Equal(host.TokenId, tokens[j]);
            worst = MathF.Max(worst, Difference(host.Logprob, jobs[j].Logprob, $"job {j}: the chosen token's logprob"));
            Assert.Equal(host.TopLogprobs.Select(t => t.TokenId), jobs[j].TopLogprobs.Select(t => t.TokenId));
            for (var t = 0; t < host.TopLogprobs.Count; t++)
            {
                worst = MathF.Max(worst, Difference(host.TopLogprobs[t].Logprob, jobs[j].TopLogprobs[t].Logprob, $"job {j}: top {t}"));
            }
        }

        return worst;
    }

    private static float Difference(float host, float device, string what)
    {
        if (!float.IsFinite(host) || !float.IsFinite(device))
        {
            Assert.True(host.Equals(device), $"{what}: host {host}, device {device}");
            return 0f;
        }

        var difference = MathF.Abs(host - device);
        Assert.True(difference <= Tolerance(host), $"{what}: host {host}, device {device} (|difference| {difference:E2} > {Tolerance(host):E2})");
        return difference;
    }

    // DeviceSamplingTests' rows (peaked, flat, tied, with -inf logits, top-tied, all -inf) and, before the all -inf
    // one, a row whose two best tokens are the first and the last id.
    private static float[][] Rows(Random random)
    {
        var rows = DeviceSamplingTests.Rows(random).ToList();
        var edges = Enumerable.Range(0, Vocab).Select(i => i == 0 ? 7f : i == Vocab - 1 ? 7.5f : DeviceSamplingTests.Normal(random)).ToArray();
        rows.Insert(rows.Count - 1, edges);
        return [.. rows];
    }

    private static int[] Draw(IlgpuDevice on, float[][] rows, IReadOnlyList<SamplingJob> jobs)
    {
        var flat = rows.SelectMany(r => r).ToArray();
        using var logits = on.Accelerator.Allocate1D(flat);
        using var sampler = new DeviceSampler(on.Accelerator, on.Sampling);
        var tokens = new int[jobs.Count];
        sampler.Sample(logits.View, Vocab, jobs, tokens);
        return tokens;
    }
}
