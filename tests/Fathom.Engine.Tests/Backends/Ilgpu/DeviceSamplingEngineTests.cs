using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Tests.Model;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The engine loop on the <c>ilgpu-cpu</c> backend draws seeded requests on the device and generates what the
/// <c>cpu</c> backend generates with the host sampler; a request with logprobs beside them stays on the host.
/// </summary>
public sealed class DeviceSamplingEngineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-device-sampling-").FullName;

    [Fact]
    public void Seeded_requests_generate_the_same_tokens_on_ilgpu_cpu_and_cpu()
    {
        var path = Path.Combine(_directory, "synthetic.gguf");
        SyntheticLlama.Write(path, new SyntheticLlamaShape(64, 2, 4, 2, 128, 300), GgmlType.F32);
        int[] prompt = [1, 17, 42, 42, 99, 250, 7, 17];
        var requests = new[]
        {
            new EngineRequest("penalized", prompt, new SamplingParams { Temperature = 0.9f, TopK = 40, TopP = 0.9f, RepetitionPenalty = 1.3f, FrequencyPenalty = 0.4f, PresencePenalty = 0.2f, Seed = 7, MaxTokens = 10, IgnoreEos = true }),
            new EngineRequest("biased", prompt, new SamplingParams { Temperature = 1.2f, MinP = 0.05f, LogitBias = new Dictionary<int, float> { [42] = -100f, [5] = 2f }, Seed = 8, MaxTokens = 10, IgnoreEos = true }),
            new EngineRequest("forked", prompt, new SamplingParams { Temperature = 1.5f, Seed = 9, N = 2, MaxTokens = 6, IgnoreEos = true }),
            new EngineRequest("logprobs", prompt, new SamplingParams { Temperature = 0.8f, Seed = 10, Logprobs = true, MaxTokens = 6, IgnoreEos = true }),
        };

        var (cpu, cpuDraws) = Generate(path, ComputeBackendKind.Cpu, requests);
        var (device, deviceDraws) = Generate(path, ComputeBackendKind.IlgpuCpu, requests);
        Assert.Equal(0, cpuDraws);
        Assert.Equal(10 + 10 + (2 * 6), deviceDraws); // every draw but the logprobs request's
        Assert.Equal(cpu.Keys.Order(), device.Keys.Order());
        foreach (var (sequence, tokens) in cpu)
        {
            Assert.Equal(tokens, device[sequence]);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (Dictionary<string, List<int>> Tokens, long DeviceDraws) Generate(string path, ComputeBackendKind backend, EngineRequest[] requests)
    {
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Backend = backend, KvBlockCount = 32, Threads = 1 });
        var pool = new KvBlockPool(model.KvBlockCount, model.KvBlockSize);
        var scheduler = new Scheduler(new SchedulerConfig(), new KvCacheManager(pool, model.Fingerprint));
        var core = new EngineCore(scheduler, new LlamaModelRunner(model));
        foreach (var request in requests)
        {
            core.AddRequest(request);
        }

        var outputs = new Dictionary<string, List<int>>();
        for (var step = 0; step < 200 && core.HasUnfinishedRequests; step++)
        {
            foreach (var update in core.Step())
            {
                var name = $"{update.Sequence.RequestId}/{update.Sequence.Index}";
                (outputs.TryGetValue(name, out var list) ? list : outputs[name] = []).Add(update.Token.TokenId);
            }

            Assert.Null(core.StepError);
            Assert.Empty(core.Faults);
        }

        Assert.False(core.HasUnfinishedRequests);
        return (outputs, core.DeviceDrawCount);
    }
}
