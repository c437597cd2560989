using Fathom.Engine.KvCache;
using Fathom.Engine.Backends.Ilgpu;
using Fathom.Gguf;
using Fathom.Engine.Model;
using Fathom.Engine.Tests.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// Whole models on the ILGPU kernels (ILGPU's CPU accelerator) against the reference backend: the same greedy
/// tokens and close logits. The device keeps K and V in f16 (u = 2^-11), so logits differ from the f32
/// reference by ~1e-3 relative; tolerances allow that and nothing more.
/// </summary>
public sealed class IlgpuModelTests : IDisposable
{
    private static readonly int[] OnceUponATime = [1, 403, 407, 261, 378];
    private static readonly int[] Prompt = [1, 260, 261, 262, 17, 250, 283, 42];
    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-ilgpu-").FullName;

    [Fact]
    public void Stories260K_greedy_tokens_and_logits_match_reference()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        using var reference = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 4 });
        using var device = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, KvBlockCount = 4 });
        Assert.Equal("ilgpu-cpu", device.BackendName);

        var expected = ModelRunner.LastLogits(reference, OnceUponATime);
        var actual = ModelRunner.LastLogits(device, OnceUponATime);
        var error = ModelRunner.RelativeError(actual, expected);
        Assert.True(error < 3e-3, $"relative logit error {error:E3}");

        Assert.Equal(ModelRunner.Greedy(reference, OnceUponATime, 6), ModelRunner.Greedy(device, OnceUponATime, 6));

        // One step of two sequences (5 prompt tokens in block 2, 3 in block 3), logits of both last tokens; the
        // device argmax agrees with the host's on the downloaded logits.
        var vocab = device.HyperParameters.VocabularySize;
        var batch = new ForwardBatch([1, 403, 407, 261, 378, 1, 300, 301], [0, 1, 2, 3, 4, 0, 1, 2], [0, 0, 0, 0, 0, 1, 1, 1], [[2], [3]], [4, 7]);
        var logits = new float[2 * vocab];
        device.Forward(batch, logits);
        var ids = device.ForwardGreedy(batch); // the same K/V rewritten: the same logits
        Assert.Equal([device.ArgMax(logits.AsSpan(0, vocab)), device.ArgMax(logits.AsSpan(vocab, vocab))], ids);
        var referenceLogits = new float[2 * vocab];
        reference.Forward(batch, referenceLogits);
        Assert.True(ModelRunner.RelativeError(logits, referenceLogits) < 3e-3);

        // Device KV blocks round-trip through the block-level interface (f16 payloads survive f32 and back).
        var storage = device.KvBlocks;
        Assert.Equal(KvCacheDataType.F32, storage.DataType);
        var payload = new byte[storage.BlockBytes];
        storage.ReadBlock(2, payload);
        Assert.Contains(payload, v => v != 0);
        storage.WriteBlock(1, payload);
        var copy = new byte[storage.BlockBytes];
        storage.ReadBlock(1, copy);
        Assert.Equal(payload, copy);
    }

    [Fact]
    public void Quantized_model_matches_reference_on_its_decoded_twin()
    {
        // Matrices take Q8_0, Q4_0, Q4_K, Q6_K, F16, BF16 in turn (the embedding table included): one load covers every kernel path.
        var quantized = Path.Combine(_directory, "mixed.gguf");
        var twin = Path.Combine(_directory, "twin.gguf");
        GgmlType[] types = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16];
        QuantizedTwin.Write(quantized, twin, new SyntheticLlamaShape(256, 2, 16, 4, 256, 300), types);
        using var reference = LlamaModel.Load(twin, new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 2 });
        using var device = LlamaModel.Load(quantized, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, KvBlockCount = 2 });
        using (var file = GgufFile.Open(quantized))
        {
            Assert.Equal(types.Order(), file.Tensors.Select(t => t.Type).Where(t => t != GgmlType.F32).Distinct().Order());
        }

        var expected = ModelRunner.LastLogits(reference, Prompt);
        var actual = ModelRunner.LastLogits(device, Prompt);
        var error = ModelRunner.RelativeError(actual, expected);
        Assert.True(error < 3e-3, $"relative logit error {error:E3}");
        Assert.Equal(ModelRunner.Greedy(reference, Prompt, 3), ModelRunner.Greedy(device, Prompt, 3));
    }

    [Fact]
    public void Cuda_without_a_device_fails_with_one_line()
    {
        Assert.SkipWhen(IlgpuDevice.CudaAvailable(), "this machine has a CUDA device");
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var e = Assert.Throws<BackendUnavailableException>(() => LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Cuda, KvBlockCount = 1 }));
        Assert.Contains("cuda", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        using var auto = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Auto, KvBlockCount = 1 });
        Assert.Equal("cpu", auto.BackendName);
    }

    [Theory]
    [InlineData("auto", ComputeBackendKind.Auto)]
    [InlineData("cpu", ComputeBackendKind.Cpu)]
    [InlineData("reference", ComputeBackendKind.Reference)]
    [InlineData("cuda", ComputeBackendKind.Cuda)]
    [InlineData("ilgpu-cpu", ComputeBackendKind.IlgpuCpu)]
    [InlineData("IlgpuCpu", ComputeBackendKind.IlgpuCpu)]
    public void Backend_names_parse_and_print(string name, ComputeBackendKind kind)
    {
        Assert.True(ComputeBackendKinds.TryParse(name, out var parsed));
        Assert.Equal(kind, parsed);
        Assert.True(ComputeBackendKinds.TryParse(ComputeBackendKinds.ToName(kind), out var again));
        Assert.Equal(kind, again);
        Assert.False(ComputeBackendKinds.TryParse("gpu", out _));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
