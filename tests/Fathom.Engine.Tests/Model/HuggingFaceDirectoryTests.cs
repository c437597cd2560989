using Fathom.Engine.Model;
using Fathom.Gguf;
using Fathom.Safetensors;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// A Hugging Face model directory written from stories260K's GGUF weights (q/k rows put back in Transformers'
/// rotate-half order) runs like the GGUF: the same greedy tokens, logits equal up to each dtype's rounding, single
/// file or sharded; and the directory converted back to GGUF (q/k permuted as llama.cpp's converter does) is the
/// original GGUF's weights byte for byte.
/// </summary>
public sealed class HuggingFaceDirectoryTests : IDisposable
{
    private static readonly int[] OnceUponATime = [1, 403, 407, 261, 378];

    private readonly string _root = Directory.CreateTempSubdirectory("fathom-hf-dir-").FullName;
    private readonly string _gguf = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    public static TheoryData<ComputeBackendKind, bool> F32Cases => new()
    {
        { ComputeBackendKind.Reference, false },
        { ComputeBackendKind.Cpu, false },
        { ComputeBackendKind.Cpu, true },
    };

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [MemberData(nameof(F32Cases))]
    public void An_F32_directory_gives_the_GGUF_tokens_and_logits(ComputeBackendKind backend, bool sharded)
    {
        var dir = Write(SafetensorsDType.F32, sharded ? 40_000 : null);
        if (sharded)
        {
            Assert.True(Directory.GetFiles(dir, "model-*-of-*.safetensors").Length > 3);
        }

        var options = new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 };
        using var gguf = LlamaModel.Load(_gguf, options);
        using var hf = LlamaModel.Load(dir, options);

        Assert.True(hf.IsDirectory);
        Assert.Null(hf.File);
        Assert.Equal(RopeMode.NeoX, hf.HyperParameters.RopeMode);
        Assert.Equal(gguf.HyperParameters with { RopeMode = RopeMode.NeoX, ContextLength = hf.HyperParameters.ContextLength }, hf.HyperParameters);
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(hf, OnceUponATime), ModelRunner.LastLogits(gguf, OnceUponATime));
        Assert.True(error < 1e-5, $"relative logit error {error}");
        var expected = ModelRunner.Greedy(gguf, OnceUponATime, 48);
        Assert.Equal(432, expected[0]);
        Assert.Equal(expected, ModelRunner.Greedy(hf, OnceUponATime, 48));
    }

    [Theory]
    [InlineData(SafetensorsDType.F16, 2e-3)]
    [InlineData(SafetensorsDType.BF16, 2e-2)]
    public void Half_precision_directories_agree_with_the_F32_GGUF_within_rounding(SafetensorsDType dtype, double tolerance)
    {
        var dir = Write(dtype, maxShardBytes: 100_000);
        var options = new ModelLoadOptions { Backend = ComputeBackendKind.Cpu, Threads = 2, KvBlockCount = 8 };
        using var gguf = LlamaModel.Load(_gguf, options);
        using var hf = LlamaModel.Load(dir, options);

        Assert.Equal(gguf.StoredWeightBytes / 2, hf.StoredWeightBytes);
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(hf, OnceUponATime), ModelRunner.LastLogits(gguf, OnceUponATime));
        Assert.True(error < tolerance, $"relative logit error {error} ≥ {tolerance}");
        Assert.Equal(ModelRunner.Greedy(gguf, OnceUponATime, 16), ModelRunner.Greedy(hf, OnceUponATime, 16));
    }

    [Fact]
    public void Back_to_GGUF_the_directory_is_the_original_weights_byte_for_byte()
    {
        var dir = Write(SafetensorsDType.F32, null);
        var back = Path.Combine(_root, "back.gguf");
        HuggingFaceDirectories.WriteGguf(dir, back);
        using var original = GgufFile.Open(_gguf);
        using var converted = GgufFile.Open(back);

        Assert.Equal(original.Tensors.Count, converted.Tensors.Count);
        foreach (var t in original.Tensors)
        {
            var c = converted.GetTensor(t.Name);
            Assert.Equal(t.Dimensions, c.Dimensions);
            Assert.True(original.GetTensorBytes(t).SequenceEqual(converted.GetTensorBytes(c)), $"{t.Name} differs");
        }

        // And the q/k rows in the directory really are in another order than the GGUF's (the test would pass trivially otherwise).
        using var checkpoint = SafetensorsCheckpoint.Open(dir);
        var q = checkpoint.FindTensor("model.layers.0.self_attn.q_proj.weight")!;
        Assert.False(checkpoint.GetTensorBytes(q).SequenceEqual(original.GetTensorBytes(original.GetTensor("blk.0.attn_q.weight"))));
    }

    [Theory]
    [InlineData(WeightQuantization.Q8_0)]
    [InlineData(WeightQuantization.Q4_K)]
    public void Quantize_on_load_serves_a_BF16_directory_in_less_memory(WeightQuantization quantization)
    {
        var dir = Write(SafetensorsDType.BF16, null);
        var options = new ModelLoadOptions { Backend = ComputeBackendKind.Cpu, Threads = 2, KvBlockCount = 8 };
        using var plain = LlamaModel.Load(dir, options);
        using var quantized = LlamaModel.Load(dir, options with { Quantization = quantization });
        using var gguf = LlamaModel.Load(_gguf, options);

        // stories260K's rows are 64 wide: whole Q8_0 blocks, no whole Q4_K super-block, so q4_k falls back to Q8_0;
        // ffn_down's rows (172) are no whole block at all and stay BF16.
        Assert.Equal(plain.StoredWeightBytes, quantized.StoredWeightBytes);
        var before = plain.WeightBytes;
        var after = quantized.WeightBytes;
        Assert.True(after < before * 0.8, $"weights take {after} bytes quantized, {before} as BF16");
        Assert.NotEqual(plain.Fingerprint, quantized.Fingerprint);
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(quantized, OnceUponATime), ModelRunner.LastLogits(gguf, OnceUponATime));
        Assert.True(error < 0.05, $"relative logit error {error}");
        Assert.Equal(432, ModelRunner.Greedy(quantized, OnceUponATime, 1)[0]);
    }

    [Fact]
    public void Quantizing_a_1B_shaped_row_uses_Q4_K_and_the_project_quantizer()
    {
        // 256-wide rows are whole Q4_K super-blocks; the bytes are what TensorFormats.QuantizeRow gives for the row.
        Assert.Equal(GgmlType.Q4_K, WeightQuantizations.TargetFor(WeightQuantization.Q4_K, GgmlType.BF16, 2048));
        Assert.Equal(GgmlType.Q8_0, WeightQuantizations.TargetFor(WeightQuantization.Q4_K, GgmlType.F16, 64));
        Assert.Null(WeightQuantizations.TargetFor(WeightQuantization.Q8_0, GgmlType.F32, 172));
        Assert.Null(WeightQuantizations.TargetFor(WeightQuantization.Q8_0, GgmlType.Q4_0, 2048));
        Assert.Equal(WeightQuantization.Q4_K, WeightQuantizations.Parse("Q4_K"));
        Assert.Null(WeightQuantizations.Parse("fp4"));
    }

    private string Write(SafetensorsDType dtype, long? maxShardBytes)
    {
        var dir = Path.Combine(_root, $"{dtype}-{maxShardBytes}");
        HuggingFaceDirectories.WriteFromGguf(_gguf, dir, dtype, maxShardBytes);
        return dir;
    }
}
