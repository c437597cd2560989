using Fathom.Planner.Models;
using Fathom.Testing;

namespace Fathom.Planner.Tests.Models;

public sealed class ModelShapeTests
{
    [Fact]
    public void DeepSeek_70B_has_the_exact_published_parameter_count_and_bf16_bytes()
    {
        var shape = ModelPresets.Get("deepseek-r1-distill-llama-70b");
        Assert.Equal(70_553_706_496, shape.Parameters);
        var bf16 = Fathom.Planner.Formats.WeightBudget.Estimate(shape, Fathom.Planner.Formats.WeightFormat.Parse("bf16"));
        Assert.Equal(141_107_412_992, bf16.TotalBytes);
    }

    [Fact]
    public void KV_bytes_per_token_at_f16_match_the_formula_for_GQA_models()
    {
        Assert.Equal(327_680, ModelPresets.Get("deepseek-r1-distill-llama-70b").KvBytesPerToken(KvCacheType.F16));
        Assert.Equal(131_072, ModelPresets.Get("llama-3.1-8b").KvBytesPerToken(KvCacheType.F16));
        Assert.Equal(163_840, ModelPresets.Get("deepseek-r1-distill-llama-70b").KvBytesPerToken(KvCacheType.Fp8));
        // q8_0: 34 bytes per 32 values.
        Assert.Equal(327_680 / 2 / 32 * 34, ModelPresets.Get("deepseek-r1-distill-llama-70b").KvBytesPerToken(KvCacheType.Q80));
    }

    [Theory]
    [InlineData("llama-3.1-8b", 8_030_261_248)]
    [InlineData("qwen2.5-32b", 32_763_876_352)]
    [InlineData("llama-2-7b", 6_738_415_616)]
    [InlineData("llama-2-70b", 68_976_648_192)]
    public void Presets_count_the_parameters_their_model_cards_state(string name, long parameters) =>
        Assert.Equal(parameters, ModelPresets.Get(name).Parameters);

    [Fact]
    public void The_shared_DeepSeek_config_json_reads_as_the_preset_shape()
    {
        var path = SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/config.json");
        var fromConfig = HfConfigReader.Read(path);
        var preset = ModelPresets.Get("deepseek-r1-distill-llama-70b");
        Assert.Equal("deepseek-r1-distill-llama-70b", fromConfig.Name);
        Assert.Equal(preset, fromConfig);
    }

    [Fact]
    public void A_config_of_another_architecture_is_rejected_with_its_type()
    {
        var e = Assert.Throws<PlannerInputException>(() => HfConfigReader.Parse("""{"model_type":"mamba","hidden_size":1}""", "x"));
        Assert.Contains("mamba", e.Message);
    }

    [Fact]
    public void Unknown_presets_name_the_known_ones()
    {
        var e = Assert.Throws<PlannerInputException>(() => ModelPresets.Get("gpt-5"));
        Assert.Contains("gpt-5", e.Message);
        Assert.Contains("llama-3.1-8b", e.Message);
    }

    [Fact]
    public void Valid_TP_sizes_divide_heads_and_KV_heads_and_TP_6_is_not_one_of_them()
    {
        var shape = ModelPresets.Get("deepseek-r1-distill-llama-70b");
        var valid = TensorParallelism.ValidSizes(shape);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64], valid);
        Assert.False(TensorParallelism.IsValid(shape, 6));
        Assert.Equal(1, TensorParallelism.KvHeadsPerGpu(shape, 16));
        var notes = TensorParallelism.Notes(shape, valid);
        Assert.Contains(notes, n => n.Contains("TP=16") && n.Contains("duplicated"));
        Assert.Contains(notes, n => n.Contains('6') && n.Contains("not valid"));
    }

    [Fact]
    public void Qwen_40_heads_allow_TP_5_only_if_KV_heads_split_so_it_is_rejected()
    {
        var shape = ModelPresets.Get("qwen2.5-32b");
        Assert.False(TensorParallelism.IsValid(shape, 5)); // 8 KV heads: 5 neither divides nor is a multiple
        Assert.True(TensorParallelism.IsValid(shape, 8));
    }
}
