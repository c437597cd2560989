using System.Text.Json.Nodes;
using Fathom.Safetensors;

namespace Fathom.Testing;

/// <summary>
/// Writes a small random-weight Llama model directory with the Llama-3 vocabulary (128,256 tokens) and its real
/// tokenizer files from <c>../shared/hf-tokenizers/llama-3.1</c>: config.json with Llama-3.1 rope scaling, BF16
/// safetensors in Transformers' layout, tokenizer.json, tokenizer_config.json (chat template, BOS/EOS) and
/// generation_config.json. Weights are seeded; the output matrix is scaled up so greedy decoding has no near-ties.
/// </summary>
public static class SyntheticLlama3Directory
{
    /// <summary>The vocabulary size of Llama 3.</summary>
    public const int Vocabulary = 128256;

    /// <summary>Writes the directory; sharded into files of at most <paramref name="maxShardBytes"/> when given.</summary>
    public static void Write(string directory, int hidden = 64, int layers = 2, int heads = 4, int kvHeads = 2, int ffn = 128,
        SafetensorsDType dtype = SafetensorsDType.BF16, long? maxShardBytes = null, int seed = 31)
    {
        Directory.CreateDirectory(directory);
        var headDim = hidden / heads;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = hidden,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["head_dim"] = headDim,
            ["intermediate_size"] = ffn,
            ["vocab_size"] = Vocabulary,
            ["max_position_embeddings"] = 131072,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 500000.0,
            ["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 8192 },
            ["tie_word_embeddings"] = false,
            ["hidden_act"] = "silu",
            ["bos_token_id"] = 128000,
            ["eos_token_id"] = new JsonArray(128001, 128008, 128009),
            ["torch_dtype"] = dtype == SafetensorsDType.BF16 ? "bfloat16" : dtype == SafetensorsDType.F16 ? "float16" : "float32",
        };
        File.WriteAllText(Path.Combine(directory, HuggingFaceConfig.FileName), config.ToJsonString());
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), "{\"bos_token_id\":128000,\"eos_token_id\":[128001,128008,128009],\"do_sample\":true,\"temperature\":0.6,\"top_p\":0.9}");
        var tokenizers = Path.GetDirectoryName(SharedFixtures.Default.GetPath("hf-tokenizers/llama-3.1/tokenizer.json"))!;
        File.Copy(Path.Combine(tokenizers, "tokenizer.json"), Path.Combine(directory, "tokenizer.json"), overwrite: true);
        File.Copy(Path.Combine(tokenizers, "tokenizer_config.json"), Path.Combine(directory, "tokenizer_config.json"), overwrite: true);

        var random = new Random(seed);
        SafetensorsTensor Matrix(string name, int rows, int columns, float scale)
        {
            var values = new float[rows * columns];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)((random.NextDouble() * 2) - 1) * scale;
            }

            return new SafetensorsTensor(name, dtype, [rows, columns], HuggingFaceDirectories.Encode(values, dtype));
        }

        SafetensorsTensor Norm(string name)
        {
            var values = new float[hidden];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = 0.8f + (0.4f * (float)random.NextDouble());
            }

            return new SafetensorsTensor(name, dtype, [hidden], HuggingFaceDirectories.Encode(values, dtype));
        }

        var tensors = new List<SafetensorsTensor> { Matrix("model.embed_tokens.weight", Vocabulary, hidden, 1f) };
        var inScale = MathF.Sqrt(3f / hidden);
        for (var l = 0; l < layers; l++)
        {
            var p = $"model.layers.{l}.";
            tensors.Add(Norm(p + "input_layernorm.weight"));
            tensors.Add(Matrix(p + "self_attn.q_proj.weight", heads * headDim, hidden, inScale));
            tensors.Add(Matrix(p + "self_attn.k_proj.weight", kvHeads * headDim, hidden, inScale));
            tensors.Add(Matrix(p + "self_attn.v_proj.weight", kvHeads * headDim, hidden, inScale));
            tensors.Add(Matrix(p + "self_attn.o_proj.weight", hidden, heads * headDim, MathF.Sqrt(3f / (heads * headDim))));
            tensors.Add(Norm(p + "post_attention_layernorm.weight"));
            tensors.Add(Matrix(p + "mlp.gate_proj.weight", ffn, hidden, inScale));
            tensors.Add(Matrix(p + "mlp.up_proj.weight", ffn, hidden, inScale));
            tensors.Add(Matrix(p + "mlp.down_proj.weight", hidden, ffn, MathF.Sqrt(3f / ffn)));
        }

        tensors.Add(Norm("model.norm.weight"));
        tensors.Add(Matrix("lm_head.weight", Vocabulary, hidden, 4 * inScale));
        if (maxShardBytes is { } max)
        {
            SafetensorsWriter.WriteSharded(directory, tensors, max);
        }
        else
        {
            SafetensorsWriter.Write(Path.Combine(directory, SafetensorsCheckpoint.SingleFileName), tensors);
        }
    }
}
