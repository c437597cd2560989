namespace Fathom.Models.Tests;

public sealed class GgufFileSelectorTests
{
    private static HubFile F(string path) => new(path, 10, new string('0', 64), null);

    private static readonly HubFile[] Repository =
    [
        F("README.md"),
        F("Model-Q4_K_M.gguf"),
        F("Model-Q8_0.gguf"),
        F("Model-IQ2_XXS.gguf"),
        F("mmproj-Model-F16.gguf"),
        F("BF16/Model-BF16-00002-of-00003.gguf"),
        F("BF16/Model-BF16-00001-of-00003.gguf"),
        F("BF16/Model-BF16-00003-of-00003.gguf"),
    ];

    [Theory]
    [InlineData("Q4_K_M", "Model-Q4_K_M.gguf")]
    [InlineData("q8_0", "Model-Q8_0.gguf")]
    [InlineData("iq2_xxs", "Model-IQ2_XXS.gguf")]
    public void A_tag_picks_its_file_case_insensitively(string tag, string expected)
    {
        var (_, files) = GgufFileSelector.Select("hf.co/o/r", Repository, tag);
        Assert.Equal([expected], files.Select(f => f.Path));
    }

    [Fact]
    public void A_split_model_comes_back_as_all_its_parts_in_order()
    {
        var (tag, files) = GgufFileSelector.Select("hf.co/o/r", Repository, "bf16");
        Assert.Equal("BF16", tag);
        Assert.Equal(
            ["BF16/Model-BF16-00001-of-00003.gguf", "BF16/Model-BF16-00002-of-00003.gguf", "BF16/Model-BF16-00003-of-00003.gguf"],
            files.Select(f => f.Path));
    }

    [Fact]
    public void A_split_model_with_a_part_missing_is_an_error()
    {
        var broken = Repository.Where(f => !f.Path.Contains("00002")).ToArray();
        var error = Assert.Throws<ModelNotFoundException>(() => GgufFileSelector.Select("hf.co/o/r", broken, "BF16"));
        Assert.Contains("3 parts", error.Message);
    }

    [Fact]
    public void No_tag_means_Q4_K_M_when_present()
    {
        var (tag, files) = GgufFileSelector.Select("hf.co/o/r", Repository, null);
        Assert.Equal("Q4_K_M", tag);
        Assert.Equal("Model-Q4_K_M.gguf", Assert.Single(files).Path);
    }

    [Fact]
    public void No_tag_and_one_model_means_that_model()
    {
        var (tag, files) = GgufFileSelector.Select("hf.co/o/r", [F("tiny-F32.gguf"), F("mmproj-tiny-F16.gguf")], null);
        Assert.Equal("F32", tag);
        Assert.Equal("tiny-F32.gguf", Assert.Single(files).Path);
    }

    [Fact]
    public void No_tag_and_no_default_lists_the_tags()
    {
        var files = Repository.Where(f => !f.Path.Contains("Q4_K_M")).ToArray();
        var error = Assert.Throws<ModelNotFoundException>(() => GgufFileSelector.Select("hf.co/o/r", files, null));
        Assert.Contains(":BF16", error.Message);
        Assert.Contains(":Q8_0", error.Message);
        Assert.Contains(":IQ2_XXS", error.Message);
        Assert.DoesNotContain("mmproj", error.Message);
    }

    [Fact]
    public void An_unknown_tag_lists_the_tags()
    {
        var error = Assert.Throws<ModelNotFoundException>(() => GgufFileSelector.Select("hf.co/o/r", Repository, "Q5_K_S"));
        Assert.Contains("no Q5_K_S", error.Message);
        Assert.Contains(":Q4_K_M", error.Message);
    }

    [Fact]
    public void A_partial_tag_does_not_match_inside_another()
    {
        Assert.Throws<ModelNotFoundException>(() => GgufFileSelector.Select("hf.co/o/r", Repository, "K_M"));
    }

    [Fact]
    public void A_repository_without_gguf_files_says_so()
    {
        var error = Assert.Throws<ModelNotFoundException>(() => GgufFileSelector.Select("hf.co/o/r", [F("model.safetensors")], null));
        Assert.Contains("no .gguf files", error.Message);
    }
}
