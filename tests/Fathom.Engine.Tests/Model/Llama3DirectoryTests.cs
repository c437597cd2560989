using System.Text.Json.Nodes;
using Fathom.Engine.Model;
using Fathom.Engine.Serving;
using Fathom.Engine.Templates;
using Fathom.Safetensors;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// A synthetic model directory with the Llama-3 vocabulary and the real Llama-3.1 tokenizer files: the directory
/// (BF16, Transformers' rotate-half q/k, Llama-3.1 rope scaling) and the GGUF converted from it as llama.cpp's
/// converter would (q/k permuted for the interleaved rotation) give the same tokens; served from the directory, the
/// model tokenizes, chats and stops with the tokenizer_config.json/config.json/generation_config.json settings; and
/// a config.json or shard that disagrees with the tensors fails naming the file and the field.
/// </summary>
public sealed class Llama3DirectoryTests : IDisposable
{
    private static readonly int[] Prompt = [128000, 9906, 1917, 11, 358, 1097];

    private readonly string _root = Directory.CreateTempSubdirectory("fathom-llama3-dir-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_directory_and_the_GGUF_converted_from_it_give_the_same_tokens()
    {
        var dir = Path.Combine(_root, "m");
        SyntheticLlama3Directory.Write(dir, maxShardBytes: 8 << 20);
        var gguf = Path.Combine(_root, "m.gguf");
        HuggingFaceDirectories.WriteGguf(dir, gguf);

        var options = new ModelLoadOptions { Backend = ComputeBackendKind.Cpu, Threads = 2, KvBlockCount = 8 };
        using var hf = LlamaModel.Load(dir, options);
        using var converted = LlamaModel.Load(gguf, options);
        Assert.Equal(RopeMode.NeoX, hf.HyperParameters.RopeMode);
        Assert.Equal(RopeMode.Normal, converted.HyperParameters.RopeMode);
        Assert.Equal(new Llama3RopeScaling(8, 1, 4, 8192), hf.HyperParameters.Llama3Scaling);
        Assert.Equal(hf.HyperParameters.Llama3Scaling, converted.HyperParameters.Llama3Scaling);

        // BF16 values widen to f32 exactly, so only the order of additions differs between the two layouts.
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(hf, Prompt), ModelRunner.LastLogits(converted, Prompt));
        Assert.True(error < 1e-4, $"relative logit error {error}");
        Assert.Equal(ModelRunner.Greedy(converted, Prompt, 24), ModelRunner.Greedy(hf, Prompt, 24));

        // Long positions exercise the llama3-scaled frequencies.
        var longPrompt = Enumerable.Range(0, 100).Select(i => 1000 + (i * 37)).Prepend(128000).ToArray();
        Assert.Equal(ModelRunner.Greedy(converted, longPrompt, 4), ModelRunner.Greedy(hf, longPrompt, 4));
    }

    [Fact]
    public void Served_from_the_directory_it_uses_the_tokenizer_template_and_generation_files()
    {
        var dir = Path.Combine(_root, "served");
        SyntheticLlama3Directory.Write(dir);
        using var served = ServedModel.Load(dir, new ServedModelOptions { Threads = 2, KvCacheMemoryBytes = 8 << 20 });

        Assert.Equal("served", served.Name);
        Assert.Equal([128000, 9906, 1917], served.EncodePrompt("Hello world"));
        Assert.Equal("<|begin_of_text|>", served.ChatFormat.BosToken);
        Assert.Equal("<|eot_id|>", served.ChatFormat.EosToken);
        Assert.Superset(new HashSet<int> { 128001, 128008, 128009 }, served.EndOfGenerationIds.ToHashSet());
        var chat = served.EncodeChat([new ChatMessage("user", "Hi")]);
        Assert.Equal(128000, chat[0]);
        Assert.Single(chat, t => t == 128000);
        Assert.Contains(128006, chat); // <|start_header_id|>: the Llama 3.1 template rendered
        Assert.Equal(new GenerationDefaults(0.6f, 0.9f, null), served.GenerationDefaults);
    }

    [Fact]
    public void A_config_that_disagrees_with_the_tensors_names_the_shard_and_the_key()
    {
        var dir = Path.Combine(_root, "bad");
        SyntheticLlama3Directory.Write(dir, maxShardBytes: 8 << 20);
        var configPath = Path.Combine(dir, HuggingFaceConfig.FileName);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["num_key_value_heads"] = 1;
        File.WriteAllText(configPath, config.ToJsonString());

        var e = Assert.Throws<ModelLoadException>(() => LlamaModel.Load(dir, new ModelLoadOptions { Threads = 1, KvBlockCount = 4 }).Dispose());
        Assert.NotNull(e.FilePath);
        Assert.Matches(@"model-0000\d-of-0000\d\.safetensors$", e.FilePath);
        Assert.Contains("model.layers.0.self_attn.k_proj.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains("num_key_value_heads", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_shard_or_lm_head_is_a_typed_error()
    {
        var dir = Path.Combine(_root, "missing");
        SyntheticLlama3Directory.Write(dir, maxShardBytes: 8 << 20);
        var shards = Directory.GetFiles(dir, "model-*.safetensors").Order(StringComparer.Ordinal).ToList();
        File.Delete(shards[^1]);
        var e = Assert.Throws<SafetensorsFormatException>(() => LlamaModel.Load(dir, new ModelLoadOptions { Threads = 1, KvBlockCount = 4 }).Dispose());
        Assert.EndsWith(SafetensorsCheckpoint.IndexFileName, e.FilePath, StringComparison.Ordinal);
        Assert.StartsWith("weight_map['", e.Field, StringComparison.Ordinal);

        var untied = Path.Combine(_root, "untied");
        SyntheticLlama3Directory.Write(untied);
        var configPath = Path.Combine(untied, HuggingFaceConfig.FileName);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["architectures"] = new JsonArray("DeepseekV3ForCausalLM");
        File.WriteAllText(configPath, config.ToJsonString());
        var arch = Assert.Throws<SafetensorsFormatException>(() => LlamaModel.Load(untied, new ModelLoadOptions { Threads = 1, KvBlockCount = 4 }).Dispose());
        Assert.Equal("architectures", arch.Field);
        Assert.Contains("LlamaForCausalLM, Qwen2ForCausalLM", arch.Message, StringComparison.Ordinal);
    }
}
