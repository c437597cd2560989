using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Tests.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// Device memory of the ILGPU forward: the step scratch (sized by logit rows, not step tokens; no gate/up buffers a
/// fused SwiGLU never touches; logits only where they are computed) and the KV cache sized by
/// <c>--gpu-memory-utilization</c>.
/// </summary>
public sealed class IlgpuDeviceMemoryTests(ITestOutputHelper output)
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 300, 301, 302];

    /// <summary>Llama-3-70B's shape: hidden 8192, 64/8 heads of 128, FFN 28672, vocabulary 128256.</summary>
    internal static LlamaHyperParameters Llama70B { get; } = new()
    {
        Architecture = "llama",
        EmbeddingLength = 8192,
        LayerCount = 80,
        HeadCount = 64,
        KvHeadCount = 8,
        HeadDimension = 128,
        FeedForwardLength = 28672,
        ContextLength = 8192,
        VocabularySize = 128256,
        RmsNormEpsilon = 1e-5f,
        RopeFrequencyBase = 500000f,
        RopeDimensionCount = 128,
        RopeMode = RopeMode.Normal,
    };

    [Fact]
    public void Scratch_of_an_8192_token_step_holds_the_logits_of_its_logit_rows_only()
    {
        var hp = Llama70B;
        const int Tokens = 8192;
        var first = DeviceScratch.BytesFor(hp, new DeviceScratch.ScratchShape(Tokens, 1, ComputesLogits: true, SeparateGateUp: false));
        var other = DeviceScratch.BytesFor(hp, new DeviceScratch.ScratchShape(Tokens, 1, ComputesLogits: false, SeparateGateUp: false));
        var unfused = DeviceScratch.BytesFor(hp, new DeviceScratch.ScratchShape(Tokens, 1, ComputesLogits: true, SeparateGateUp: true));
        // What the set held before: logits and their two inputs for every step token, and gate/up always.
        var before = first + (4L * (Tokens - 1) * (hp.VocabularySize + (2L * hp.EmbeddingLength))) + (2L * 4 * Tokens * hp.FeedForwardLength);
        output.WriteLine($"70B-shape scratch for an 8,192-token step with one logit row: {first / 1e9:F2} GB on the logits shard, {other / 1e9:F2} GB on the others (was {before / 1e9:F2} GB on every shard)");
        Assert.Equal(4L * (hp.VocabularySize + (2L * hp.EmbeddingLength)), first - other); // one row of logits and of its inputs
        Assert.Equal(2L * 4 * Tokens * hp.FeedForwardLength, unfused - first);             // gate and up, only when unfused
        Assert.True(before - first > 5_000_000_000L, $"saves {(before - first) / 1e9:F2} GB");

        // A real step on the CPU accelerator allocates exactly the planned bytes: 8 tokens, 1 logit row, fused SwiGLU.
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, KvBlockCount = 2 });
        ModelRunner.LastLogits(model, Prompt);
        var forward = Assert.IsType<IlgpuForward>(model.DeviceForward);
        Assert.Equal(DeviceScratch.BytesFor(model.HyperParameters, new DeviceScratch.ScratchShape(Prompt.Length, 1, true, false)), forward.ScratchBytes);
    }

    [Fact]
    public void Memory_plan_takes_the_weights_and_reserve_off_the_budget_and_fails_clearly_when_nothing_fits()
    {
        const long Gb = 1_000_000_000L;
        var plan = DeviceMemoryPlan.Plan(80 * Gb, 0.9, 40 * Gb, 41 * Gb, 2 * Gb, 5_242_880, 16, 8192, int.MaxValue);
        Assert.Equal((long)((72 * Gb) - (43 * Gb)) / 5_242_880, plan.Blocks);
        Assert.Equal(plan.Blocks / 512, plan.MaxSequencesAtContext);
        Assert.Contains($"{plan.Blocks} blocks of 16 tokens", plan.ToString(), StringComparison.Ordinal);
        Assert.Contains("weights 40 GB", plan.ToString(), StringComparison.Ordinal);
        Assert.Equal(100, DeviceMemoryPlan.Plan(80 * Gb, 0.9, 1, 1, 0, 1, 16, 8192, 100).Blocks);
        var e = Assert.Throws<InsufficientDeviceMemoryException>(() => DeviceMemoryPlan.Plan(80 * Gb, 0.5, 40 * Gb, 41 * Gb, 2 * Gb, 5_242_880, 16, 8192, int.MaxValue));
        Assert.Contains("--gpu-memory-utilization 0.5", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceMemoryPlan.Plan(80 * Gb, 1.5, 1, 1, 0, 1, 16, 8192, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceMemoryPlan.Plan(80 * Gb, 0, 1, 1, 0, 1, 16, 8192, 100));
    }

    [Fact]
    public void Gpu_memory_utilization_sizes_the_kv_cache_from_the_device_memory_left_after_the_weights()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var device = IlgpuDevice.OpenCpu(memoryBytes: 64L << 20); // a 64 MiB device, owned (and disposed) by the model
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, GpuMemoryUtilization = 0.5, OpenDevice = () => device });
        var plan = model.DeviceMemoryPlan;
        Assert.NotNull(plan);
        output.WriteLine(plan.ToString());
        Assert.Equal(64L << 20, plan.TotalBytes);
        Assert.Equal(plan.Blocks, model.KvBlockCount);
        Assert.Equal(plan.KvBytes, model.KvCacheBytes);
        Assert.True(plan.WeightBytes > 0 && plan.UsedBytes >= plan.WeightBytes);
        var budget = (long)((64L << 20) * 0.5) - plan.UsedBytes - plan.ReservedBytes;
        Assert.InRange(plan.KvBytes, budget - plan.BlockBytes + 1, budget); // whole blocks of exactly the rest
        Assert.Equal(plan.Blocks / ((model.HyperParameters.ContextLength + 15) / 16), plan.MaxSequencesAtContext);
        Assert.Equal(3, ModelRunner.Greedy(model, Prompt, 3).Length); // and it runs

        // Nothing fits: a one-line typed error; the CPU backend has no device to size.
        var small = IlgpuDevice.OpenCpu(memoryBytes: 1L << 20); // disposed by the failed load
        Assert.Throws<InsufficientDeviceMemoryException>(() => LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, GpuMemoryUtilization = 0.5, OpenDevice = () => small }));
        var cpu = Assert.Throws<NotSupportedException>(() => LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Cpu, GpuMemoryUtilization = 0.9 }));
        Assert.Contains("--gpu-memory-utilization", cpu.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, GpuMemoryUtilization = 0.9, KvBlockCount = 4 }));
    }

    [Fact]
    public void An_fp8_kv_cache_halves_the_block_bytes_and_the_same_memory_plans_twice_the_blocks()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var halfDevice = IlgpuDevice.OpenCpu(memoryBytes: 64L << 20);
        var fp8Device = IlgpuDevice.OpenCpu(memoryBytes: 64L << 20);
        using var half = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, GpuMemoryUtilization = 0.5, OpenDevice = () => halfDevice });
        using var fp8 = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, GpuMemoryUtilization = 0.5, OpenDevice = () => fp8Device, KvCacheDataType = KvCacheDataType.Fp8 });
        var (f16Plan, fp8Plan) = (half.DeviceMemoryPlan!, fp8.DeviceMemoryPlan!);
        output.WriteLine(fp8Plan.ToString());
        Assert.Equal(f16Plan.BlockBytes / 2, fp8Plan.BlockBytes);
        Assert.Equal(KvCacheDataType.Fp8, fp8Plan.KvDataType);
        Assert.Contains("KV cache (fp8)", fp8Plan.ToString(), StringComparison.Ordinal);
        Assert.Contains("KV cache (f16)", f16Plan.ToString(), StringComparison.Ordinal);
        var budget = (long)((64L << 20) * 0.5) - fp8Plan.UsedBytes - fp8Plan.ReservedBytes;
        Assert.Equal(budget / fp8Plan.BlockBytes, fp8Plan.Blocks);
        Assert.InRange(fp8Plan.Blocks, (2 * f16Plan.Blocks) - 1, (2 * f16Plan.Blocks) + 1); // same budget, half the bytes a block
        Assert.Equal(fp8Plan.KvBytes, fp8.KvCacheBytes);
    }
}
