using System.Text;
using Fathom.Testing;

namespace Fathom.Safetensors.Tests;

/// <summary>config.json: the target model's own file reads as published; unsupported or inconsistent values name the key.</summary>
public sealed class HuggingFaceConfigTests
{
    [Fact]
    public void DeepSeek_R1_Distill_Llama_70B_reads_as_published()
    {
        var config = HuggingFaceConfig.Read(Path.GetDirectoryName(SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/config.json"))!);
        Assert.Equal("LlamaForCausalLM", config.Architecture);
        Assert.Equal((8192, 80, 64, 8, 128, 28672, 128256), (config.HiddenSize, config.LayerCount, config.HeadCount, config.KvHeadCount, config.HeadDimension, config.IntermediateSize, config.VocabularySize));
        Assert.Equal(500000f, config.RopeTheta);
        Assert.Equal(new HuggingFaceRopeScaling("llama3", 8f, 1f, 4f, 8192), config.RopeScaling);
        Assert.Equal(131072, config.MaxPositionEmbeddings);
        Assert.False(config.TieWordEmbeddings);
        Assert.False(config.HasQkvBias);
        Assert.Equal([128001, 128008, 128009], config.EosTokenIds);
        Assert.Equal(128000, config.BosTokenId);
        Assert.Equal("bfloat16", config.TorchDtype);
    }

    [Fact]
    public void Qwen2_has_qkv_biases_and_defaults()
    {
        var config = Parse("{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":64,\"num_attention_heads\":4,\"num_hidden_layers\":1,\"intermediate_size\":128,\"vocab_size\":100,\"tie_word_embeddings\":true}");
        Assert.True(config.HasQkvBias);
        Assert.True(config.TieWordEmbeddings);
        Assert.Equal(4, config.KvHeadCount);
        Assert.Equal(16, config.HeadDimension);
        Assert.Equal(1e-6f, config.RmsNormEpsilon);
        Assert.Equal("qwen2", config.ModelType);
        Assert.Null(config.QuantizationConfigJson);
    }

    [Theory]
    [InlineData("{\"architectures\":[\"MixtralForCausalLM\"]}", "architectures")]
    [InlineData("{\"hidden_size\":64}", "architectures")]
    [InlineData("{\"architectures\":[\"LlamaForCausalLM\"],\"num_attention_heads\":4,\"num_hidden_layers\":1,\"intermediate_size\":128,\"vocab_size\":100}", "hidden_size")]
    [InlineData("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"num_attention_heads\":4,\"num_key_value_heads\":3,\"num_hidden_layers\":1,\"intermediate_size\":128,\"vocab_size\":100}", "num_key_value_heads")]
    [InlineData("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":\"64\",\"num_attention_heads\":4,\"num_hidden_layers\":1,\"intermediate_size\":128,\"vocab_size\":100}", "hidden_size")]
    [InlineData("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"num_attention_heads\":4,\"num_hidden_layers\":1,\"intermediate_size\":128,\"vocab_size\":100,\"rope_scaling\":{\"rope_type\":\"yarn\"}}", "rope_scaling.rope_type")]
    [InlineData("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"num_attention_heads\":4,\"num_hidden_layers\":1,\"intermediate_size\":128,\"vocab_size\":100,\"hidden_act\":\"gelu\"}", "hidden_act")]
    [InlineData("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"num_attention_heads\":4,\"num_hidden_layers\":1,\"intermediate_size\":128,\"vocab_size\":100,\"rms_norm_eps\":-1}", "rms_norm_eps")]
    [InlineData("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":66,\"num_attention_heads\":4,\"num_hidden_layers\":1,\"intermediate_size\":128,\"vocab_size\":100}", "head_dim")]
    [InlineData("[]", "")]
    [InlineData("{", "")]
    public void A_bad_config_names_the_key(string json, string key)
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => Parse(json));
        Assert.Equal("/m/config.json", e.FilePath);
        Assert.Equal(key, e.Field);
        if (key == "architectures")
        {
            Assert.Contains("LlamaForCausalLM, Qwen2ForCausalLM", e.Message, StringComparison.Ordinal);
        }
    }

    private static HuggingFaceConfig Parse(string json) => HuggingFaceConfig.Parse(Encoding.UTF8.GetBytes(json), "/m/config.json");
}
