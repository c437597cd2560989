using Fathom.Engine.Model;
using Fathom.Engine.Quantization;
using Fathom.Gguf;
using Fathom.Safetensors;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// A model directory in each published quantized format (written from GGUF weights by the formats' own packing)
/// against a plain F32 directory of the published formula's dequantized weights: the same greedy tokens and close
/// logits on the CPU backend and on ILGPU's CPU accelerator.
/// </summary>
public sealed class QuantizedCheckpointParityTests : IDisposable
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378];
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"fathom-ckpt-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public static TheoryData<CheckpointFormat, ComputeBackendKind> Cases()
    {
        var data = new TheoryData<CheckpointFormat, ComputeBackendKind>();
        foreach (var format in Enum.GetValues<CheckpointFormat>())
        {
            data.Add(format, ComputeBackendKind.Cpu);
            data.Add(format, ComputeBackendKind.IlgpuCpu);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Stories260K_directory_matches_its_dequantized_f32_weights(CheckpointFormat format, ComputeBackendKind backend) =>
        AssertParity(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), format, backend, 24);

    [Theory]
    [InlineData(CheckpointFormat.Awq, ComputeBackendKind.Cpu)]
    [InlineData(CheckpointFormat.GptqDescAct, ComputeBackendKind.Cpu)]
    [InlineData(CheckpointFormat.GptqSymmetric, ComputeBackendKind.IlgpuCpu)]
    [InlineData(CheckpointFormat.GptqDescAct, ComputeBackendKind.IlgpuCpu)]
    [InlineData(CheckpointFormat.Fp8PerChannel, ComputeBackendKind.Cpu)]
    [InlineData(CheckpointFormat.Fp8PerTensor, ComputeBackendKind.IlgpuCpu)]
    public void Synthetic_llama_with_every_layer_quantized_matches_its_dequantized_f32_weights(CheckpointFormat format, ComputeBackendKind backend)
    {
        var gguf = Path.Combine(_root, "synthetic.gguf");
        Directory.CreateDirectory(_root);
        // Small's width and depth with 16-wide heads (the device attention kernel's limit on the CPU accelerator).
        SyntheticLlama.Write(gguf, SyntheticLlamaShape.Small with { Heads = 16, KvHeads = 4 }, GgmlType.F32);
        AssertParity(gguf, format, backend, 12, prompt: [1, 300, 301, 259, 370]);
    }

    [Theory]
    [InlineData(CheckpointFormat.Awq, ComputeBackendKind.Cpu)]
    [InlineData(CheckpointFormat.GptqDescAct, ComputeBackendKind.IlgpuCpu)]
    public void Unquantized_lm_head_and_embeddings_stay_in_their_stored_bf16(CheckpointFormat format, ComputeBackendKind backend)
    {
        var (quantized, _) = WriteDirectories(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), format);
        using var model = LlamaModel.Load(quantized, new ModelLoadOptions { Backend = backend, KvBlockCount = 4 });
        Assert.Equal(GgmlType.BF16, model.Weights.TokenEmbedding.Type);
        Assert.Equal(GgmlType.BF16, model.Weights.Output.Type);
        Assert.Equal(CheckpointTypes.Int4ZeroPoint, model.Weights.Layers[0].Query.Type);
        Assert.Equal(backend == ComputeBackendKind.Cpu, model.Weights.Layers[0].Query.Interleaved);
    }

    [Fact]
    public void Unknown_quant_method_and_malformed_tensors_fail_the_load_naming_file_and_field()
    {
        var (quantized, _) = WriteDirectories(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), CheckpointFormat.Awq);
        var config = Path.Combine(quantized, "config.json");
        var text = File.ReadAllText(config);
        File.WriteAllText(config, text.Replace("\"awq\"", "\"hqq\"", StringComparison.Ordinal));
        var e = Assert.Throws<SafetensorsFormatException>(() => LlamaModel.Load(quantized, new ModelLoadOptions { KvBlockCount = 4 }));
        Assert.Equal("quantization_config.quant_method", e.Field);
        Assert.Contains("awq", e.Reason, StringComparison.Ordinal);
        Assert.Contains("gptq", e.Reason, StringComparison.Ordinal);

        // group_size 64 on 64-input layers whose qzeros/scales were written for 32: the qzeros shape is wrong.
        File.WriteAllText(config, text.Replace("\"group_size\":32", "\"group_size\":64", StringComparison.Ordinal));
        e = Assert.Throws<SafetensorsFormatException>(() => LlamaModel.Load(quantized, new ModelLoadOptions { KvBlockCount = 4 }));
        Assert.Equal("tensor 'model.layers.0.self_attn.q_proj.qzeros'.shape", e.Field);
        Assert.EndsWith("model.safetensors", e.FilePath, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ComputeBackendKind.Cpu)]
    [InlineData(ComputeBackendKind.IlgpuCpu)]
    public void Quantize_fp8_on_load_matches_the_weights_rounded_through_fp8_ahead(ComputeBackendKind backend)
    {
        // --quantize fp8 on an F32 directory equals an F32 directory of every matrix already rounded through
        // per-channel e4m3 (scale = max|row|/448), token for token, in a quarter of the bytes.
        var stories = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var plain = Path.Combine(_root, "plain");
        var rounded = Path.Combine(_root, "rounded");
        QuantizedCheckpointDirectory.WriteF32(stories, plain, (w, _, _) => w);
        QuantizedCheckpointDirectory.WriteF32(stories, rounded, RoundThroughFp8);
        var options = new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 };
        using var onLoad = LlamaModel.Load(plain, options with { Quantization = WeightQuantization.Fp8 });
        using var ahead = LlamaModel.Load(rounded, options);
        Assert.True(onLoad.WeightBytes * 3 < ahead.WeightBytes, $"{onLoad.WeightBytes} bytes held vs {ahead.WeightBytes} as F32");
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(onLoad, Prompt), ModelRunner.LastLogits(ahead, Prompt));
        Assert.True(error <= 1e-4, $"relative logit error {error}"); // both backends apply the row scale to the sum
        Assert.Equal(ModelRunner.Greedy(ahead, Prompt, 24), ModelRunner.Greedy(onLoad, Prompt, 24));
    }

    private static float[] RoundThroughFp8(float[] w, int rows, int columns)
    {
        var result = new float[w.Length];
        var bytes = new byte[Fp8Rows.RowBytes(columns)];
        for (var r = 0; r < rows; r++)
        {
            Fp8Rows.Quantize(w.AsSpan(r * columns, columns), bytes, columns);
            Fp8Rows.Dequantize(bytes, result.AsSpan(r * columns, columns), columns);
        }

        return result;
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>The relative logit error int8 activation rounding leaves (the same order as GGUF Q4_0 against F32 weights).</summary>
    private const double Int4ActivationRounding = 2e-2;

    private static bool IsInt4(CheckpointFormat format) => format is not (CheckpointFormat.Fp8PerChannel or CheckpointFormat.Fp8PerTensor or CheckpointFormat.FbgemmFp8);

    private (string Quantized, string Reference) WriteDirectories(string gguf, CheckpointFormat format)
    {
        var quantized = Path.Combine(_root, format.ToString());
        var reference = Path.Combine(_root, format + "-f32");
        QuantizedCheckpointDirectory.Write(gguf, format, quantized, reference);
        return (quantized, reference);
    }

    private void AssertParity(string gguf, CheckpointFormat format, ComputeBackendKind backend, int tokens, int[]? prompt = null)
    {
        prompt ??= Prompt;
        var (quantizedPath, referencePath) = WriteDirectories(gguf, format);
        var options = new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 };
        using var quantized = LlamaModel.Load(quantizedPath, options);
        using var reference = LlamaModel.Load(referencePath, options);
        Assert.True(quantized.WeightBytes < reference.WeightBytes, $"{format}: {quantized.WeightBytes} bytes held vs {reference.WeightBytes} for F32");
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(quantized, prompt), ModelRunner.LastLogits(reference, prompt));
        // CPU: AWQ/GPTQ run int8 activations (Q4_0's kernels with a zero point), so their error is the activation
        // rounding's; FP8's widened kernel applies the row scale once to the sum (1.9e-5 seen on FBGEMM FP8). ILGPU: the
        // scale multiplies partial sums instead of each weight, so only rounding differs (GPTQ-sym on stories260K exceeded 1e-4 once).
        var fp8 = format is CheckpointFormat.Fp8PerChannel or CheckpointFormat.Fp8PerTensor or CheckpointFormat.FbgemmFp8;
        var bound = backend != ComputeBackendKind.Cpu || fp8 ? 5e-4 : IsInt4(format) ? Int4ActivationRounding : 1e-6;
        Assert.True(error <= bound, $"{format} on {backend}: relative logit error {error}");
        Assert.Equal(ModelRunner.Greedy(reference, prompt, tokens), ModelRunner.Greedy(quantized, prompt, tokens));
    }
}
