using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Tests.Model;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The engine loop on the <c>ilgpu-cpu</c> backend draws seeded requests on the device, logprobs and top_logprobs
/// included, and generates what the <c>cpu</c> backend generates with the host sampler; a constrained request beside
/// them stays on the host. Against the host sampler on the very logit rows the device sampled from (copied back in the
/// same step), each draw has the host's token, its top tokens in order and its logprobs to the device normaliser's
/// rounding; against the <c>cpu</c> backend, the logprobs agree to the two backends' logit difference (the device
/// keeps K and V in f16, and its logits are not bit-reproducible from run to run).
/// </summary>
public sealed class DeviceSamplingEngineTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>|ilgpu-cpu − cpu| per logprob: f16 K/V moves the device's logits by ~1e-3 relative (measured at most 6.7e-3 here).</summary>
    private const float CrossBackendTolerance = 2e-2f;

    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-device-sampling-").FullName;

    [Fact]
    public void Seeded_requests_generate_the_same_tokens_and_logprobs_on_ilgpu_cpu_and_cpu()
    {
        var path = Path.Combine(_directory, "synthetic.gguf");
        SyntheticLlama.Write(path, new SyntheticLlamaShape(64, 2, 4, 2, 128, 300), GgmlType.F32);
        int[] prompt = [1, 17, 42, 42, 99, 250, 7, 17];
        var requests = new[]
        {
            new EngineRequest("penalized", prompt, new SamplingParams { Temperature = 0.9f, TopK = 40, TopP = 0.9f, RepetitionPenalty = 1.3f, FrequencyPenalty = 0.4f, PresencePenalty = 0.2f, Seed = 7, MaxTokens = 10, IgnoreEos = true }),
            new EngineRequest("biased", prompt, new SamplingParams { Temperature = 1.2f, MinP = 0.05f, LogitBias = new Dictionary<int, float> { [42] = -100f, [5] = 2f }, Seed = 8, MaxTokens = 10, IgnoreEos = true }),
            new EngineRequest("forked", prompt, new SamplingParams { Temperature = 1.5f, Seed = 9, N = 2, MaxTokens = 6, IgnoreEos = true }),
            new EngineRequest("logprobs", prompt, new SamplingParams { Temperature = 0.8f, Seed = 10, Logprobs = true, TopLogprobs = 5, MaxTokens = 6, IgnoreEos = true }),
            new EngineRequest("greedy_logprobs", prompt, new SamplingParams { Temperature = 0, RepetitionPenalty = 1.2f, LogitBias = new Dictionary<int, float> { [7] = 3f }, Logprobs = true, TopLogprobs = 20, MaxTokens = 6, IgnoreEos = true }),
            new EngineRequest("forked_logprobs", prompt, new SamplingParams { Temperature = 1.1f, TopK = 50, Seed = 11, N = 2, Logprobs = true, TopLogprobs = 1, MaxTokens = 5, IgnoreEos = true }),
            new EngineRequest("constrained", prompt, new SamplingParams { Temperature = 0.7f, Seed = 12, Logprobs = true, TopLogprobs = 2, MaxTokens = 4, IgnoreEos = true }) { Constraint = () => new EvenTokens() },
        };

        var (cpu, cpuDraws, _) = Generate(path, ComputeBackendKind.Cpu, requests, witness: false);
        var (device, deviceDraws, witness) = Generate(path, ComputeBackendKind.IlgpuCpu, requests, witness: true);
        Assert.Equal(0, cpuDraws);
        Assert.Equal(10 + 10 + (2 * 6) + 6 + 6 + (2 * 5), deviceDraws); // every draw but the constrained request's
        Assert.All(device["constrained/0"], t => Assert.Equal(0, t.TokenId % 2));
        Assert.Equal(20, device["greedy_logprobs/0"][0].TopLogprobs.Count);
        Assert.Empty(witness!.Mismatches);
        Assert.Equal(deviceDraws, witness.Compared);

        var crossBackend = Compare(cpu, device);
        output.WriteLine($"max |logprob difference|: device vs host sampler on the same logits {witness.Worst:E2} ({witness.Compared} draws); ilgpu-cpu vs cpu {crossBackend:E2}");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // Same sequences, same tokens, logprobs within tolerance; top tokens in the same order except where the cpu
    // backend's logprobs of neighbours are within the tolerance of each other (the backends' logits may swap them).
    private static float Compare(Dictionary<string, List<SampledToken>> expected, Dictionary<string, List<SampledToken>> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        var worst = 0f;
        foreach (var (sequence, tokens) in expected)
        {
            var other = actual[sequence];
            Assert.Equal(tokens.Select(t => t.TokenId), other.Select(t => t.TokenId));
            for (var i = 0; i < tokens.Count; i++)
            {
                var what = $"{sequence} token {i}";
                worst = MathF.Max(worst, Close(tokens[i].Logprob, other[i].Logprob, what));
                var top = tokens[i].TopLogprobs;
                Assert.Equal(top.Count, other[i].TopLogprobs.Count);
                for (var t = 0; t < top.Count; t++)
                {
                    worst = MathF.Max(worst, Close(top[t].Logprob, other[i].TopLogprobs[t].Logprob, $"{what} top {t}"));
                    var nearTie = t == top.Count - 1 || (t > 0 && top[t - 1].Logprob - top[t].Logprob <= 2 * CrossBackendTolerance)
                        || top[t].Logprob - top[t + 1].Logprob <= 2 * CrossBackendTolerance;
                    Assert.True(nearTie || top[t].TokenId == other[i].TopLogprobs[t].TokenId, $"{what} top {t}: {top[t].TokenId} expected, {other[i].TopLogprobs[t].TokenId} found");
                }
            }
        }

        return worst;
    }

    private static float Close(float expected, float actual, string what)
    {
        if (!float.IsFinite(expected))
        {
            Assert.True(expected.Equals(actual), $"{what}: {expected} expected, {actual} found");
            return 0f;
        }

        var difference = MathF.Abs(expected - actual);
        Assert.True(difference <= CrossBackendTolerance, $"{what}: {expected} expected, {actual} found (|difference| {difference:E2})");
        return difference;
    }

    private static (Dictionary<string, List<SampledToken>> Tokens, long DeviceDraws, SameLogitsWitness? Witness) Generate(string path, ComputeBackendKind backend, EngineRequest[] requests, bool witness)
    {
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Backend = backend, KvBlockCount = 32, Threads = 1 });
        var pool = new KvBlockPool(model.KvBlockCount, model.KvBlockSize);
        var scheduler = new Scheduler(new SchedulerConfig(), new KvCacheManager(pool, model.Fingerprint));
        var runner = new LlamaModelRunner(model);
        var checker = witness ? new SameLogitsWitness(runner) : null;
        var core = new EngineCore(scheduler, checker is null ? runner : checker);
        foreach (var request in requests)
        {
            core.AddRequest(request);
        }

        var outputs = new Dictionary<string, List<SampledToken>>();
        for (var step = 0; step < 200 && core.HasUnfinishedRequests; step++)
        {
            foreach (var update in core.Step())
            {
                var name = $"{update.Sequence.RequestId}/{update.Sequence.Index}";
                (outputs.TryGetValue(name, out var list) ? list : outputs[name] = []).Add(update.Token);
            }

            Assert.Null(core.StepError);
            Assert.Empty(core.Faults);
        }

        Assert.False(core.HasUnfinishedRequests);
        return (outputs, core.DeviceDrawCount, checker);
    }

    /// <summary>
    /// The real runner, asked to copy back every sampled logit row beside the device's draws, so that each draw is
    /// checked against the host <see cref="Sampler"/> on the very row the device sampled from (with the engine's key
    /// for the draw: the request's seed, the fork and the position). Mismatches are collected, not thrown (the engine
    /// would retry the step).
    /// </summary>
    private sealed class SameLogitsWitness(LlamaModelRunner runner) : IDeviceSamplingRunner
    {
        private readonly Sampler _sampler = new();

        public List<string> Mismatches { get; } = [];

        public int Compared { get; private set; }

        public float Worst { get; private set; }

        public int VocabSize => runner.VocabSize;

        public bool SamplesOnDevice => runner.SamplesOnDevice;

        public void Execute(SchedulerOutput batch, Span<float> logits) => runner.Execute(batch, logits);

        public void Execute(SchedulerOutput batch, IReadOnlyList<SamplingJob> jobs, Span<int> tokens, ReadOnlySpan<int> hostRows, Span<float> logits)
        {
            int[] rows = [.. batch.Sequences.Where(s => s.SampleCount > 0).Select(s => s.LogitsRow).Distinct()];
            runner.Execute(batch, jobs, tokens, rows, logits);
            var j = 0;
            foreach (var scheduled in batch.Sequences)
            {
                var sequence = scheduled.Sequence;
                if (scheduled.SampleCount == 0 || sequence.Request.Constraint is not null)
                {
                    continue;
                }

                for (var i = 0; i < scheduled.SampleCount; i++, j++)
                {
                    var key = new SampleKey(sequence.Seed, i == 0 ? sequence.Index : i, sequence.NumOutputTokens);
                    var host = _sampler.Sample(logits.Slice(scheduled.LogitsRow * VocabSize, VocabSize), sequence.Request.Sampling, sequence.PromptSpan, sequence.OutputSpan, key);
                    Check(host, tokens[j], jobs[j], $"{sequence.RequestId}/{i} at {sequence.NumOutputTokens}");
                }
            }

            if (j != jobs.Count)
            {
                Mismatches.Add($"{jobs.Count} jobs for {j} device draws");
            }
        }

        private void Check(SampledToken host, int token, SamplingJob job, string what)
        {
            Compared++;
            if (host.TokenId != token || !host.TopLogprobs.Select(t => t.TokenId).SequenceEqual(job.TopLogprobs.Select(t => t.TokenId)))
            {
                Mismatches.Add($"{what}: host {host.TokenId} [{string.Join(',', host.TopLogprobs.Select(t => t.TokenId))}], device {token} [{string.Join(',', job.TopLogprobs.Select(t => t.TokenId))}]");
                return;
            }

            float[] expected = [host.Logprob, .. host.TopLogprobs.Select(t => t.Logprob)];
            float[] actual = [job.Logprob, .. job.TopLogprobs.Select(t => t.Logprob)];
            for (var k = 0; k < expected.Length; k++)
            {
                var same = float.IsFinite(expected[k]) ? MathF.Abs(expected[k] - actual[k]) <= DeviceLogprobTests.Tolerance(expected[k]) : expected[k].Equals(actual[k]);
                if (!same)
                {
                    Mismatches.Add($"{what} logprob {k}: host {expected[k]}, device {actual[k]}");
                }
                else if (float.IsFinite(expected[k]))
                {
                    Worst = MathF.Max(Worst, MathF.Abs(expected[k] - actual[k]));
                }
            }
        }
    }

    // Allows the even token ids only, for ever: a constraint keeps its draws on the host.
    private sealed class EvenTokens : ITokenConstraint
    {
        public bool IsComplete => false;

        public void FillAllowedTokens(Span<ulong> allowed) => allowed.Fill(0x5555_5555_5555_5555UL);

        public bool Accept(int tokenId) => tokenId % 2 == 0;
    }
}
