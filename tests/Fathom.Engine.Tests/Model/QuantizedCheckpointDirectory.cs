using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Fathom.Engine.Backends;
using Fathom.Engine.Model;
using Fathom.Engine.Quantization.Checkpoints;
using Fathom.Gguf;
using Fathom.Safetensors;

namespace Fathom.Engine.Tests.Model;

/// <summary>The published quantized-checkpoint formats a test directory can be written in.</summary>
public enum CheckpointFormat
{
    Awq,
    GptqSymmetric,
    GptqAsymmetric,
    GptqDescAct,
    GptqV2Asymmetric,
    Fp8PerChannel,
    Fp8PerTensor,
    FbgemmFp8,
}

/// <summary>
/// Writes a Hugging Face model directory from a GGUF file's weights with its linear layers quantized in a published
/// format (the writers follow the formats' tensor names and packing), and beside it a plain F32 directory holding
/// exactly the published formula's dequantized weights: the oracle a quantized directory must reproduce. (Also
/// linked into the end-to-end benchmark, which writes the quantized directory alone.)
/// </summary>
internal static unsafe class QuantizedCheckpointDirectory
{
    public static void Write(string ggufPath, CheckpointFormat format, string directory, string? referenceDirectory, int seed = 7)
    {
        using var file = GgufFile.Open(ggufPath);
        var hp = LlamaHyperParameters.FromGguf(file);
        // The largest published group size that leaves at least two groups per row (so desc_act has groups to reorder).
        var group = new[] { 128, 64, 32 }.First(g => hp.EmbeddingLength % g == 0 && hp.EmbeddingLength / g >= 2);
        var quantization = Config(format, group);
        var checkpoint = new QuantizedCheckpoint(CheckpointQuantization.Parse(JsonDocumentOf(quantization), "config.json"));
        var quantized = new List<SafetensorsTensor>();
        var reference = new List<SafetensorsTensor>();
        var random = new Random(seed);
        foreach (var t in file.Tensors)
        {
            var hfName = HuggingFaceTensorNames.FromGguf(t.Name);
            if (hfName is null)
            {
                continue;
            }

            var columns = (int)t.Dimensions[0];
            var rows = t.Dimensions.Length > 1 ? (int)t.Dimensions[1] : 1;
            var values = Decode(file, t, columns, rows);
            if (t.Name.EndsWith("attn_q.weight", StringComparison.Ordinal) || t.Name.EndsWith("attn_k.weight", StringComparison.Ordinal))
            {
                var heads = t.Name.EndsWith("attn_q.weight", StringComparison.Ordinal) ? hp.HeadCount : hp.KvHeadCount;
                values = RotateHalfOrder(values, heads, rows / heads, columns);
            }

            long[] shape = t.Dimensions.Length > 1 ? [rows, columns] : [columns];
            var module = hfName[..^".weight".Length];
            var tensors = t.Name.StartsWith("blk.", StringComparison.Ordinal) && t.Dimensions.Length == 2 && Quantizable(format, group, rows, columns)
                ? Quantize(format, module, values, rows, columns, group, random)
                : null;
            if (tensors is null)
            {
                // Unquantized matrices (embed_tokens, lm_head, ignored modules) in BF16, as published checkpoints
                // keep them; the reference holds the same BF16 tensor, vectors stay F32.
                var kept = t.Dimensions.Length > 1 ? BF16Tensor(hfName, shape, values) : F32(hfName, shape, values);
                quantized.Add(kept);
                if (referenceDirectory is not null)
                {
                    reference.Add(kept);
                }

                continue;
            }

            foreach (var q in tensors)
            {
                quantized.Add(new SafetensorsTensor(q.Name, Enum.Parse<SafetensorsDType>(q.DType), [.. q.Shape], q.Bytes.ToArray()));
            }

            if (referenceDirectory is not null)
            {
                var lookup = tensors.ToDictionary(q => q.Name);
                reference.Add(F32(hfName, shape, checkpoint.Dequantize(module, columns, rows, n => lookup.GetValueOrDefault(n))!));
            }
        }

        WriteDirectory(directory, hp, quantized, quantization);
        if (referenceDirectory is not null)
        {
            WriteDirectory(referenceDirectory, hp, reference, null);
        }
    }

    /// <summary>
    /// Writes an F32 directory of the GGUF's weights with every matrix passed through <paramref name="map"/>
    /// (values, rows, columns): e.g. the FP8 round trip that quantize-on-load applies.
    /// </summary>
    public static void WriteF32(string ggufPath, string directory, Func<float[], int, int, float[]> map)
    {
        using var file = GgufFile.Open(ggufPath);
        var hp = LlamaHyperParameters.FromGguf(file);
        var tensors = new List<SafetensorsTensor>();
        foreach (var t in file.Tensors)
        {
            if (HuggingFaceTensorNames.FromGguf(t.Name) is not { } hfName)
            {
                continue;
            }

            var columns = (int)t.Dimensions[0];
            var rows = t.Dimensions.Length > 1 ? (int)t.Dimensions[1] : 1;
            var values = Decode(file, t, columns, rows);
            if (t.Name.EndsWith("attn_q.weight", StringComparison.Ordinal) || t.Name.EndsWith("attn_k.weight", StringComparison.Ordinal))
            {
                var heads = t.Name.EndsWith("attn_q.weight", StringComparison.Ordinal) ? hp.HeadCount : hp.KvHeadCount;
                values = RotateHalfOrder(values, heads, rows / heads, columns);
            }

            tensors.Add(t.Dimensions.Length > 1 ? F32(hfName, [rows, columns], map(values, rows, columns)) : F32(hfName, [columns], values));
        }

        WriteDirectory(directory, hp, tensors, null);
    }

    private static bool Quantizable(CheckpointFormat format, int group, int rows, int columns) => format switch
    {
        CheckpointFormat.Fp8PerChannel or CheckpointFormat.Fp8PerTensor or CheckpointFormat.FbgemmFp8 => columns % 4 == 0,
        _ => rows % 8 == 0 && columns % group == 0,
    };

    private static CheckpointTensor[] Quantize(CheckpointFormat format, string module, float[] w, int rows, int columns, int group, Random random) => format switch
    {
        CheckpointFormat.Awq => AwqGemm.Quantize(module, w, rows, columns, group),
        CheckpointFormat.GptqSymmetric => Gptq.Quantize(module, w, rows, columns, group, symmetric: true, zeroOffset: 1),
        CheckpointFormat.GptqAsymmetric => Gptq.Quantize(module, w, rows, columns, group, symmetric: false, zeroOffset: 1),
        CheckpointFormat.GptqV2Asymmetric => Gptq.Quantize(module, w, rows, columns, group, symmetric: false, zeroOffset: 0),
        CheckpointFormat.GptqDescAct => Gptq.Quantize(module, w, rows, columns, group, symmetric: false, zeroOffset: 1,
            actOrder: [.. Enumerable.Range(0, columns).OrderBy(_ => random.Next())]),
        CheckpointFormat.Fp8PerTensor => Fp8Checkpoint.Quantize(module, w, rows, columns, perChannel: false),
        _ => Fp8Checkpoint.Quantize(module, w, rows, columns, perChannel: true),
    };

    private static JsonObject Config(CheckpointFormat format, int group) => format switch
    {
        CheckpointFormat.Awq => new() { ["quant_method"] = "awq", ["bits"] = 4, ["group_size"] = group, ["zero_point"] = true, ["version"] = "gemm" },
        CheckpointFormat.GptqSymmetric or CheckpointFormat.GptqAsymmetric or CheckpointFormat.GptqDescAct or CheckpointFormat.GptqV2Asymmetric => new()
        {
            ["quant_method"] = "gptq", ["bits"] = 4, ["group_size"] = group, ["sym"] = format == CheckpointFormat.GptqSymmetric,
            ["desc_act"] = format == CheckpointFormat.GptqDescAct, ["checkpoint_format"] = format == CheckpointFormat.GptqV2Asymmetric ? "gptq_v2" : "gptq",
        },
        CheckpointFormat.FbgemmFp8 => new() { ["quant_method"] = "fbgemm_fp8", ["activation_scale_ub"] = 1200.0, ["modules_to_not_convert"] = new JsonArray("lm_head") },
        _ => new()
        {
            ["quant_method"] = "compressed-tensors", ["format"] = "float-quantized", ["ignore"] = new JsonArray("lm_head"),
            ["config_groups"] = new JsonObject
            {
                ["group_0"] = new JsonObject
                {
                    ["targets"] = new JsonArray("Linear"),
                    ["weights"] = new JsonObject { ["num_bits"] = 8, ["type"] = "float", ["strategy"] = format == CheckpointFormat.Fp8PerTensor ? "tensor" : "channel", ["dynamic"] = false, ["symmetric"] = true },
                    ["input_activations"] = new JsonObject { ["num_bits"] = 8, ["type"] = "float", ["strategy"] = "token", ["dynamic"] = true, ["symmetric"] = true },
                },
            },
        },
    };

    public static void WriteDirectory(string directory, LlamaHyperParameters hp, IReadOnlyList<SafetensorsTensor> tensors, JsonObject? quantization)
    {
        Directory.CreateDirectory(directory);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = hp.EmbeddingLength,
            ["num_hidden_layers"] = hp.LayerCount,
            ["num_attention_heads"] = hp.HeadCount,
            ["num_key_value_heads"] = hp.KvHeadCount,
            ["head_dim"] = hp.HeadDimension,
            ["intermediate_size"] = hp.FeedForwardLength,
            ["vocab_size"] = hp.VocabularySize,
            ["max_position_embeddings"] = hp.ContextLength,
            ["rms_norm_eps"] = hp.RmsNormEpsilon,
            ["rope_theta"] = hp.RopeFrequencyBase,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
        };
        if (quantization is not null)
        {
            config["quantization_config"] = quantization;
        }

        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors);
    }

    private static System.Text.Json.JsonElement JsonDocumentOf(JsonObject o) => System.Text.Json.JsonDocument.Parse(o.ToJsonString()).RootElement;

    private static SafetensorsTensor BF16Tensor(string name, long[] shape, float[] values)
    {
        var bytes = new byte[values.Length * 2];
        Fathom.Engine.Quantization.BF16.Quantize(values, bytes, values.Length);
        return new(name, SafetensorsDType.BF16, shape, bytes);
    }

    private static SafetensorsTensor F32(string name, long[] shape, float[] values) =>
        new(name, SafetensorsDType.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static float[] Decode(GgufFile file, GgufTensorInfo t, int columns, int rows)
    {
        var values = new float[(long)columns * rows];
        var data = file.GetTensorPointer(t);
        var rowBytes = GgmlTypeTraits.RowBytes(t.Type, columns);
        for (var r = 0; r < rows; r++)
        {
            RowDecoder.Decode(t.Type, data + (r * rowBytes), values.AsSpan(r * columns, columns));
        }

        return values;
    }

    // GGUF stores Q/K rows permuted for interleaved RoPE (row 2i + j of a head is Transformers' row j·d/2 + i);
    // Transformers' checkpoints keep the rotate-half order.
    private static float[] RotateHalfOrder(float[] w, int heads, int headDim, int columns)
    {
        var result = new float[w.Length];
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < headDim / 2; i++)
            {
                for (var j = 0; j < 2; j++)
                {
                    var gguf = (h * headDim) + (2 * i) + j;
                    var hf = (h * headDim) + (j * headDim / 2) + i;
                    Array.Copy(w, (long)gguf * columns, result, (long)hf * columns, columns);
                }
            }
        }

        return result;
    }
}
