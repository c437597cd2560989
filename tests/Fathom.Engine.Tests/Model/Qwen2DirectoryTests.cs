using Fathom.Engine.Model;
using Fathom.Gguf;
using Fathom.Safetensors;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// Qwen2ForCausalLM: a synthetic Qwen2-shaped model (q/k/v biases, NeoX rotation, GQA 8/2) written as a <c>qwen2</c>
/// GGUF and as a Hugging Face directory of the same weights gives the same greedy tokens and logits within each
/// dtype's rounding, on the reference and the CPU backends.
/// </summary>
public sealed class Qwen2DirectoryTests : IDisposable
{
    private static readonly int[] Prompt = [1, 300, 301, 302, 303, 304, 305, 306];

    private readonly string _root = Directory.CreateTempSubdirectory("fathom-qwen2-dir-").FullName;
    private readonly string _gguf;

    public Qwen2DirectoryTests()
    {
        _gguf = Path.Combine(_root, "qwen2.gguf");
        SyntheticLlama.Write(_gguf, SyntheticLlamaShape.SmallQwen2, GgmlType.F32, seed: 77);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(ComputeBackendKind.Reference)]
    [InlineData(ComputeBackendKind.Cpu)]
    public void An_F32_directory_with_biases_gives_the_qwen2_GGUF_tokens_and_logits(ComputeBackendKind backend)
    {
        var dir = Path.Combine(_root, "f32");
        HuggingFaceDirectories.WriteFromGguf(_gguf, dir, SafetensorsDType.F32, maxShardBytes: 1 << 20);
        var config = HuggingFaceConfig.Read(dir);
        Assert.Equal("Qwen2ForCausalLM", config.Architecture);
        Assert.True(config.HasQkvBias);
        using (var checkpoint = SafetensorsCheckpoint.Open(dir))
        {
            Assert.True(checkpoint.FilePaths.Count > 1);
            Assert.NotNull(checkpoint.FindTensor("model.layers.1.self_attn.k_proj.bias"));
        }

        var options = new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 };
        using var gguf = LlamaModel.Load(_gguf, options);
        using var hf = LlamaModel.Load(dir, options);
        Assert.True(gguf.HyperParameters.HasQkvBias);
        Assert.Equal(RopeMode.NeoX, gguf.HyperParameters.RopeMode);
        Assert.Equal(gguf.HyperParameters with { ContextLength = hf.HyperParameters.ContextLength }, hf.HyperParameters);
        Assert.Equal(gguf.StoredWeightBytes, hf.StoredWeightBytes);

        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(hf, Prompt), ModelRunner.LastLogits(gguf, Prompt));
        Assert.True(error < 1e-5, $"relative logit error {error}");
        Assert.Equal(ModelRunner.Greedy(gguf, Prompt, 24), ModelRunner.Greedy(hf, Prompt, 24));
    }

    [Fact]
    public void A_BF16_directory_agrees_with_the_F32_GGUF_within_rounding()
    {
        var dir = Path.Combine(_root, "bf16");
        HuggingFaceDirectories.WriteFromGguf(_gguf, dir, SafetensorsDType.BF16);
        var options = new ModelLoadOptions { Backend = ComputeBackendKind.Cpu, Threads = 2, KvBlockCount = 8 };
        using var gguf = LlamaModel.Load(_gguf, options);
        using var hf = LlamaModel.Load(dir, options);

        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(hf, Prompt), ModelRunner.LastLogits(gguf, Prompt));
        Assert.True(error < 2e-2, $"relative logit error {error}");
        Assert.Equal(ModelRunner.Greedy(gguf, Prompt, 8), ModelRunner.Greedy(hf, Prompt, 8));
    }

    [Fact]
    public void The_biases_change_the_output()
    {
        // Without this the parity above could hold with both loaders ignoring the biases.
        var dir = Path.Combine(_root, "no-bias");
        HuggingFaceDirectories.WriteFromGguf(_gguf, dir, SafetensorsDType.F32);
        using (var checkpoint = SafetensorsCheckpoint.Open(dir))
        {
            var tensors = checkpoint.Tensors.Select(t =>
            {
                var bytes = checkpoint.GetTensorBytes(t).ToArray();
                if (t.Name.EndsWith("_proj.bias", StringComparison.Ordinal))
                {
                    Array.Clear(bytes);
                }

                return new SafetensorsTensor(t.Name, t.DType, [.. t.Shape], bytes);
            }).ToList();
            SafetensorsWriter.Write(Path.Combine(_root, "zeroed.safetensors"), tensors);
        }

        File.Move(Path.Combine(_root, "zeroed.safetensors"), Path.Combine(dir, SafetensorsCheckpoint.SingleFileName), overwrite: true);
        var options = new ModelLoadOptions { Backend = ComputeBackendKind.Reference, Threads = 2, KvBlockCount = 8 };
        using var gguf = LlamaModel.Load(_gguf, options);
        using var zeroed = LlamaModel.Load(dir, options);
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(zeroed, Prompt), ModelRunner.LastLogits(gguf, Prompt));
        Assert.True(error > 1e-2, $"relative logit error {error} without the biases");
    }
}
