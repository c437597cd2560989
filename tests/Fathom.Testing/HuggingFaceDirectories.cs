using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Fathom.Gguf;
using Fathom.Safetensors;

namespace Fathom.Testing;

/// <summary>
/// Writes Hugging Face model directories (config.json + safetensors) holding a GGUF model's weights, as
/// Transformers would store them: tensors renamed, shapes outermost first, and the q/k rows that llama.cpp's
/// converter permuted for the interleaved rotation put back in rotate-half order. And the reverse, a GGUF file from
/// a directory, permuting as llama.cpp's converter does. Tests and benchmarks use it to compare the two loaders on
/// the same weights.
/// </summary>
public static class HuggingFaceDirectories
{
    /// <summary>
    /// Writes the weights of <paramref name="ggufPath"/> (a <c>llama</c>/<c>qwen2</c> file of F32/F16/BF16 tensors)
    /// into <paramref name="directory"/> as <paramref name="dtype"/>, sharded when <paramref name="maxShardBytes"/>
    /// is given. <paramref name="editConfig"/> may change config.json before it is written.
    /// </summary>
    public static void WriteFromGguf(string ggufPath, string directory, SafetensorsDType dtype, long? maxShardBytes = null, Action<JsonObject>? editConfig = null)
    {
        using var file = GgufFile.Open(ggufPath);
        var meta = file.Metadata;
        var arch = meta.Architecture;
        var embd = (int)meta.GetUInt32($"{arch}.embedding_length");
        var heads = (int)meta.GetUInt32($"{arch}.attention.head_count");
        var kvHeads = (int)meta.GetUInt32($"{arch}.attention.head_count_kv", (uint)heads);
        var headDim = (int)meta.GetUInt32($"{arch}.attention.key_length", (uint)(embd / heads));
        var embedding = file.GetTensor("token_embd.weight");
        var tied = file.FindTensor("output.weight") is null;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(arch == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"),
            ["model_type"] = arch,
            ["hidden_size"] = embd,
            ["num_hidden_layers"] = (int)meta.GetUInt32($"{arch}.block_count"),
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["head_dim"] = headDim,
            ["intermediate_size"] = (int)meta.GetUInt32($"{arch}.feed_forward_length"),
            ["vocab_size"] = (int)embedding.Dimensions[1],
            ["max_position_embeddings"] = (int)meta.GetUInt32($"{arch}.context_length", 2048),
            ["rms_norm_eps"] = meta.GetFloat32($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f),
            ["rope_theta"] = meta.GetFloat32($"{arch}.rope.freq_base", 10000f),
            ["tie_word_embeddings"] = tied,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = dtype switch { SafetensorsDType.BF16 => "bfloat16", SafetensorsDType.F16 => "float16", _ => "float32" },
        };
        if (meta.GetString($"{arch}.rope.scaling.type") == "llama3")
        {
            config["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3",
                ["factor"] = meta.GetFloat32($"{arch}.rope.scaling.factor", 8f),
                ["low_freq_factor"] = meta.GetFloat32($"{arch}.rope.scaling.low_freq_factor", 1f),
                ["high_freq_factor"] = meta.GetFloat32($"{arch}.rope.scaling.high_freq_factor", 4f),
                ["original_max_position_embeddings"] = (int)meta.GetUInt32($"{arch}.rope.scaling.original_context_length", 8192),
            };
        }

        editConfig?.Invoke(config);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, HuggingFaceConfig.FileName), config.ToJsonString(new() { WriteIndented = true }));

        var tensors = new List<SafetensorsTensor>();
        foreach (var t in file.Tensors)
        {
            var name = ToHuggingFaceName(t.Name);
            if (name is null)
            {
                continue;
            }

            var info = t;
            tensors.Add(new SafetensorsTensor(name, dtype, [.. t.Dimensions.Reverse()], () =>
            {
                var values = Decode(info.Type, file.GetTensorBytes(info));
                var rowHeads = info.Name.EndsWith("attn_q.weight", StringComparison.Ordinal) ? heads
                    : info.Name.EndsWith("attn_k.weight", StringComparison.Ordinal) ? kvHeads : 0;
                if (rowHeads > 0 && arch == "llama")
                {
                    values = ToRotateHalf(values, rowHeads, (int)info.Dimensions[0]);
                }

                return Encode(values, dtype);
            }));
        }

        if (maxShardBytes is { } max)
        {
            SafetensorsWriter.WriteSharded(directory, tensors, max);
        }
        else
        {
            SafetensorsWriter.Write(Path.Combine(directory, SafetensorsCheckpoint.SingleFileName), tensors);
        }
    }

    /// <summary>
    /// Writes a <c>llama</c> GGUF file of F32 tensors from the model directory <paramref name="directory"/>
    /// (float safetensors), permuting q/k rows for the interleaved rotation as llama.cpp's converter does.
    /// </summary>
    public static void WriteGguf(string directory, string ggufPath)
    {
        var config = HuggingFaceConfig.Read(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var w = new GgufWriter();
        const string Arch = "llama";
        w.AddMetadata("general.architecture", Arch);
        w.AddMetadata($"{Arch}.context_length", (uint)config.MaxPositionEmbeddings);
        w.AddMetadata($"{Arch}.embedding_length", (uint)config.HiddenSize);
        w.AddMetadata($"{Arch}.block_count", (uint)config.LayerCount);
        w.AddMetadata($"{Arch}.feed_forward_length", (uint)config.IntermediateSize);
        w.AddMetadata($"{Arch}.attention.head_count", (uint)config.HeadCount);
        w.AddMetadata($"{Arch}.attention.head_count_kv", (uint)config.KvHeadCount);
        w.AddMetadata($"{Arch}.attention.key_length", (uint)config.HeadDimension);
        w.AddMetadata($"{Arch}.attention.value_length", (uint)config.HeadDimension);
        w.AddMetadata($"{Arch}.rope.dimension_count", (uint)config.HeadDimension);
        w.AddMetadata($"{Arch}.rope.freq_base", config.RopeTheta);
        w.AddMetadata($"{Arch}.attention.layer_norm_rms_epsilon", config.RmsNormEpsilon);
        w.AddMetadata($"{Arch}.vocab_size", (uint)config.VocabularySize);
        if (config.RopeScaling is { Type: "llama3" } s)
        {
            w.AddMetadata($"{Arch}.rope.scaling.type", "llama3");
            w.AddMetadata($"{Arch}.rope.scaling.factor", s.Factor);
            w.AddMetadata($"{Arch}.rope.scaling.low_freq_factor", s.LowFrequencyFactor);
            w.AddMetadata($"{Arch}.rope.scaling.high_freq_factor", s.HighFrequencyFactor);
            w.AddMetadata($"{Arch}.rope.scaling.original_context_length", (uint)s.OriginalMaxPositionEmbeddings);
        }

        foreach (var t in checkpoint.Tensors)
        {
            var name = ToGgufName(t.Name);
            if (name is null || (name == "output.weight" && config.TieWordEmbeddings))
            {
                continue;
            }

            var values = DecodeSafetensors(t.DType, checkpoint.GetTensorBytes(t));
            var columns = (int)t.Shape[^1];
            if (name.EndsWith("attn_q.weight", StringComparison.Ordinal))
            {
                values = ToInterleaved(values, config.HeadCount, columns);
            }
            else if (name.EndsWith("attn_k.weight", StringComparison.Ordinal))
            {
                values = ToInterleaved(values, config.KvHeadCount, columns);
            }

            w.AddTensor(name, GgmlType.F32, [.. t.Shape.Reverse()], MemoryMarshal.AsBytes(values.AsSpan()));
        }

        w.WriteTo(ggufPath);
    }

    /// <summary>
    /// Rows of a q/k projection permuted by llama.cpp's converter (pairs (2i, 2i+1) of each head) put back in
    /// Transformers' order (pairs (i, i + d/2)).
    /// </summary>
    public static float[] ToRotateHalf(float[] rows, int heads, int columns) => Permute(rows, heads, columns, toInterleaved: false);

    /// <summary>Rows of a Transformers q/k projection permuted as llama.cpp's converter does (the inverse of <see cref="ToRotateHalf"/>).</summary>
    public static float[] ToInterleaved(float[] rows, int heads, int columns) => Permute(rows, heads, columns, toInterleaved: true);

    private static float[] Permute(float[] rows, int heads, int columns, bool toInterleaved)
    {
        var rowCount = rows.Length / columns;
        var headDim = rowCount / heads;
        var half = headDim / 2;
        var result = new float[rows.Length];
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < half; i++)
            {
                for (var j = 0; j < 2; j++)
                {
                    var interleaved = (h * headDim) + (2 * i) + j;
                    var rotateHalf = (h * headDim) + (j * half) + i;
                    var (from, to) = toInterleaved ? (rotateHalf, interleaved) : (interleaved, rotateHalf);
                    rows.AsSpan(from * columns, columns).CopyTo(result.AsSpan(to * columns, columns));
                }
            }
        }

        return result;
    }

    /// <summary>The Transformers name of a GGUF tensor, or null.</summary>
    public static string? ToHuggingFaceName(string name)
    {
        switch (name)
        {
            case "token_embd.weight": return "model.embed_tokens.weight";
            case "output_norm.weight": return "model.norm.weight";
            case "output.weight": return "lm_head.weight";
        }

        var parts = name.Split('.', 3);
        if (parts.Length != 3 || parts[0] != "blk")
        {
            return null;
        }

        var part = parts[2] switch
        {
            "attn_norm.weight" => "input_layernorm.weight",
            "attn_q.weight" => "self_attn.q_proj.weight",
            "attn_k.weight" => "self_attn.k_proj.weight",
            "attn_v.weight" => "self_attn.v_proj.weight",
            "attn_q.bias" => "self_attn.q_proj.bias",
            "attn_k.bias" => "self_attn.k_proj.bias",
            "attn_v.bias" => "self_attn.v_proj.bias",
            "attn_output.weight" => "self_attn.o_proj.weight",
            "ffn_norm.weight" => "post_attention_layernorm.weight",
            "ffn_gate.weight" => "mlp.gate_proj.weight",
            "ffn_up.weight" => "mlp.up_proj.weight",
            "ffn_down.weight" => "mlp.down_proj.weight",
            _ => null,
        };
        return part is null ? null : $"model.layers.{parts[1]}.{part}";
    }

    /// <summary>The GGUF name of a Transformers tensor, or null (the inverse of <see cref="ToHuggingFaceName"/>).</summary>
    public static string? ToGgufName(string name)
    {
        switch (name)
        {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return "output.weight";
        }

        var parts = name.Split('.', 4);
        if (parts.Length != 4 || parts[0] != "model" || parts[1] != "layers")
        {
            return null;
        }

        foreach (var candidate in new[] { "attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight" })
        {
            if (ToHuggingFaceName($"blk.{parts[2]}.{candidate}") == name)
            {
                return $"blk.{parts[2]}.{candidate}";
            }
        }

        return null;
    }

    /// <summary>Float values of GGUF tensor bytes (F32, F16, BF16).</summary>
    public static float[] Decode(GgmlType type, ReadOnlySpan<byte> bytes) => type switch
    {
        GgmlType.F32 => MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
        GgmlType.F16 => DecodeSafetensors(SafetensorsDType.F16, bytes),
        GgmlType.BF16 => DecodeSafetensors(SafetensorsDType.BF16, bytes),
        _ => throw new NotSupportedException($"{type} tensors cannot be written to a float checkpoint"),
    };

    /// <summary>Float values of safetensors bytes (F32, F16, BF16).</summary>
    public static float[] DecodeSafetensors(SafetensorsDType dtype, ReadOnlySpan<byte> bytes)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case SafetensorsDType.F16:
                return [.. MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(h => (float)h)];
            case SafetensorsDType.BF16:
                var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                var values = new float[raw.Length];
                for (var i = 0; i < raw.Length; i++)
                {
                    values[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                }

                return values;
            default:
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"{dtype} is not a float dtype"));
        }
    }

    /// <summary>The bytes of <paramref name="values"/> as <paramref name="dtype"/> (round to nearest even).</summary>
    public static byte[] Encode(float[] values, SafetensorsDType dtype)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            case SafetensorsDType.F16:
                return MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray();
            case SafetensorsDType.BF16:
                var raw = new ushort[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    var bits = (uint)BitConverter.SingleToInt32Bits(values[i]);
                    raw[i] = (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
                }

                return MemoryMarshal.AsBytes(raw.AsSpan()).ToArray();
            default:
                throw new NotSupportedException($"{dtype} is not a float dtype");
        }
    }
}
