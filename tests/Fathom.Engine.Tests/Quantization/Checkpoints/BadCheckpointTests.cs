using System.Text.Json;
using Fathom.Engine.Quantization.Checkpoints;

namespace Fathom.Engine.Tests.Quantization.Checkpoints;

/// <summary>Unsupported configurations and malformed tensors get a <see cref="QuantizedCheckpointException"/> naming the field or tensor.</summary>
public sealed class BadCheckpointTests
{
    private const string Prefix = "model.layers.0.self_attn.q_proj";

    private static QuantizedCheckpointException Config(string json) =>
        Assert.Throws<QuantizedCheckpointException>(() => QuantizedCheckpoint.FromConfig(JsonDocument.Parse(json).RootElement, "/m/config.json"));

    [Fact]
    public void Unknown_quant_method_lists_the_supported_ones()
    {
        var e = Config("""{"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true}}""");
        Assert.Equal("quantization_config.quant_method", e.Field);
        Assert.Contains("'bitsandbytes' is not supported", e.Message, StringComparison.Ordinal);
        foreach (var method in new[] { "compressed-tensors", "fbgemm_fp8", "awq", "gptq" })
        {
            Assert.Contains(method, e.Message, StringComparison.Ordinal);
        }

        Assert.Contains("/m/config.json", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"quant_method": "gptq", "bits": 8, "group_size": 128}""", "quantization_config.bits")]
    [InlineData("""{"quant_method": "awq", "bits": 3, "group_size": 128, "version": "gemm"}""", "quantization_config.bits")]
    [InlineData("""{"quant_method": "gptq", "bits": 4, "group_size": 100}""", "quantization_config.group_size")]
    [InlineData("""{"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemv"}""", "quantization_config.version")]
    [InlineData("""{"quant_method": "gptq", "bits": 4, "group_size": 128, "checkpoint_format": "marlin"}""", "quantization_config.checkpoint_format")]
    [InlineData("""{"quant_method": "gptq", "bits": "four"}""", "quantization_config.bits")]
    [InlineData("""{"quant_method": "fp8", "weight_block_size": [128, 128]}""", "quantization_config.weight_block_size")]
    [InlineData("""{"quant_method": "compressed-tensors", "format": "pack-quantized", "config_groups": {}}""", "quantization_config.format")]
    [InlineData("""{"quant_method": "compressed-tensors", "format": "float-quantized", "config_groups": {"group_0": {"weights": {"num_bits": 8, "type": "float", "strategy": "block"}}}}""", "quantization_config.config_groups.group_0.weights.strategy")]
    public void Unsupported_settings_name_their_field(string quantization, string field) =>
        Assert.Equal(field, Config($$"""{"quantization_config": {{quantization}}}""").Field);

    [Fact]
    public void Supported_configs_parse()
    {
        static CheckpointQuantization Parse(string json) => QuantizedCheckpoint.FromConfig(JsonDocument.Parse(json).RootElement, "c")!.Config;
        var gptq = Parse("""{"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": true, "sym": false}}""");
        Assert.Equal((CheckpointQuantizationMethod.Gptq, 128, false, true, 1), (gptq.Method, gptq.GroupSize, gptq.Symmetric, gptq.DescAct, gptq.ZeroOffset));
        Assert.Equal(0, Parse("""{"quantization_config": {"quant_method": "gptq", "bits": 4, "checkpoint_format": "gptq_v2"}}""").ZeroOffset);
        var awq = Parse("""{"quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "GEMM", "modules_to_not_convert": ["lm_head"]}}""");
        Assert.Equal(CheckpointQuantizationMethod.Awq, awq.Method);
        Assert.True(awq.IsIgnored("lm_head"));
        var ct = Parse("""
            {"quantization_config": {"quant_method": "compressed-tensors", "format": "float-quantized", "ignore": ["lm_head"],
              "config_groups": {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float", "strategy": "channel", "dynamic": false, "symmetric": true},
              "input_activations": {"num_bits": 8, "type": "float", "strategy": "token", "dynamic": true, "symmetric": true}}}}}
            """);
        Assert.True(ct.IsFp8);
        Assert.Equal(CheckpointQuantizationMethod.FbgemmFp8, Parse("""{"quantization_config": {"quant_method": "fbgemm_fp8", "activation_scale_ub": 1200.0}}""").Method);
        Assert.Null(QuantizedCheckpoint.FromConfig(JsonDocument.Parse("""{"model_type": "llama"}""").RootElement, "c"));
    }

    private static QuantizedCheckpointException Repack(CheckpointQuantization config, IEnumerable<CheckpointTensor> tensors, int inFeatures = 128, int outFeatures = 16) =>
        Assert.Throws<QuantizedCheckpointException>(() => new QuantizedCheckpoint(config).Repack(Prefix, inFeatures, outFeatures, PublishedFormatTests.Lookup(tensors)));

    private static readonly CheckpointQuantization AwqConfig = new(CheckpointQuantizationMethod.Awq, 4, 64, false, false, 0, []);
    private static readonly CheckpointQuantization GptqConfig = new(CheckpointQuantizationMethod.Gptq, 4, 64, true, true, 1, []);
    private static readonly CheckpointQuantization Fp8Config = new(CheckpointQuantizationMethod.CompressedTensorsFp8, 8, 0, true, false, 0, []);

    [Fact]
    public void Wrong_shapes_dtypes_and_missing_tensors_name_the_tensor()
    {
        var good = AwqGemm.Quantize(Prefix, PublishedFormatTests.Weights(16, 128, 1), 16, 128, 64);
        var e = Repack(AwqConfig, [good[0], new(Prefix + ".qzeros", "I32", [3, 2], new byte[24]), good[2]]);
        Assert.Equal((Prefix + ".qzeros", "shape"), (e.Source, e.Field));
        e = Repack(AwqConfig, [good[0], good[1], new(Prefix + ".scales", "F32", [2, 16], new byte[128])]);
        Assert.Equal((Prefix + ".scales", "dtype"), (e.Source, e.Field));
        e = Repack(AwqConfig, [good[0], good[2]]);
        Assert.Equal((Prefix + ".qzeros", "tensor"), (e.Source, e.Field));
        e = Repack(AwqConfig, [good[0], good[1], new(Prefix + ".scales", "F16", [2, 16], new byte[10])]);
        Assert.Equal((Prefix + ".scales", "data"), (e.Source, e.Field));
        // A group size that does not divide the inputs (96 of a 64-group).
        e = Repack(AwqConfig, good, inFeatures: 96);
        Assert.Equal("group_size", e.Field);
    }

    [Fact]
    public void Gptq_g_idx_out_of_range_or_uneven_groups_is_rejected()
    {
        var tensors = Gptq.Quantize(Prefix, PublishedFormatTests.Weights(16, 128, 2), 16, 128, 64, true, 1).ToList();
        var gIdx = new int[128];
        gIdx[5] = 7; // only two groups
        tensors[3] = new(Prefix + ".g_idx", "I32", [128], ToBytes(gIdx));
        Assert.Equal((Prefix + ".g_idx", "values"), Pick(Repack(GptqConfig, tensors)));
        // Valid groups, but 63 + 65 inputs: blocks of 32 would mix two groups' scales.
        for (var i = 0; i < 128; i++)
        {
            gIdx[i] = i < 63 ? 0 : 1;
        }

        tensors[3] = new(Prefix + ".g_idx", "I32", [128], ToBytes(gIdx));
        Assert.Equal((Prefix + ".g_idx", "values"), Pick(Repack(GptqConfig, tensors)));
    }

    [Fact]
    public void Fp8_nan_codes_bad_scale_shapes_and_dtypes_are_rejected()
    {
        var tensors = Fp8Checkpoint.Quantize(Prefix, PublishedFormatTests.Weights(16, 128, 3), 16, 128, perChannel: true);
        var weight = tensors[0].Bytes.ToArray();
        weight[130] = 0x7F;
        Assert.Equal((Prefix + ".weight", "values"), Pick(Repack(Fp8Config, [new(Prefix + ".weight", "F8_E4M3", [16, 128], weight), tensors[1]])));
        Assert.Equal((Prefix + ".weight_scale", "shape"), Pick(Repack(Fp8Config, [tensors[0], new(Prefix + ".weight_scale", "F32", [16, 2], new byte[128])])));
        Assert.Equal((Prefix + ".weight_scale", "dtype"), Pick(Repack(Fp8Config, [tensors[0], new(Prefix + ".weight_scale", "I32", [16, 1], new byte[64])])));
        Assert.Equal((Prefix + ".weight", "shape"), Pick(Repack(Fp8Config, tensors, inFeatures: 64)));
        var nanScale = new byte[64];
        BitConverter.TryWriteBytes(nanScale.AsSpan(8), float.NaN);
        Assert.Equal((Prefix + ".weight_scale", "values"), Pick(Repack(Fp8Config, [tensors[0], new(Prefix + ".weight_scale", "F32", [16, 1], nanScale)])));
    }

    private static (string, string) Pick(QuantizedCheckpointException e) => (e.Source, e.Field);

    private static byte[] ToBytes(int[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }
}
