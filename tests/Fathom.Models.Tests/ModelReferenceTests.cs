namespace Fathom.Models.Tests;

public sealed class ModelReferenceTests
{
    [Theory]
    [InlineData("hf.co/unsloth/DeepSeek-R1-Distill-Llama-70B-GGUF:Q4_K_M", ModelReferenceKind.GgufRepository, "unsloth/DeepSeek-R1-Distill-Llama-70B-GGUF", "Q4_K_M")]
    [InlineData("huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF:q8_0", ModelReferenceKind.GgufRepository, "bartowski/Llama-3.2-1B-Instruct-GGUF", "q8_0")]
    [InlineData("hf.co/org/repo", ModelReferenceKind.GgufRepository, "org/repo", null)]
    [InlineData("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", ModelReferenceKind.SafetensorsRepository, "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", null)]
    public void Hub_references_parse_into_repository_and_tag(string text, ModelReferenceKind kind, string repository, string? tag)
    {
        var reference = ModelReference.Parse(text);
        Assert.Equal(kind, reference.Kind);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
    }

    [Fact]
    public void A_url_is_a_reference_to_one_file()
    {
        var reference = ModelReference.Parse("https://example.org/models/tiny.gguf");
        Assert.Equal(ModelReferenceKind.Url, reference.Kind);
        Assert.Equal("tiny.gguf", reference.UrlFileName);
        Assert.Equal(Path.Combine("url", "example.org", "models"), reference.StoreDirectory);
    }

    [Theory]
    [InlineData("model.gguf")]
    [InlineData("models/stories260K.gguf")]
    [InlineData("/abs/path/model.gguf")]
    [InlineData("hf.co/only-org")]
    [InlineData("hf.co/org/repo:bad tag")]
    [InlineData("a/b/c")]
    [InlineData("../x/y")]
    [InlineData("")]
    public void Paths_and_malformed_names_are_not_references(string text)
    {
        Assert.False(ModelReference.TryParse(text, out _));
        var error = Assert.Throws<ArgumentException>(() => ModelReference.Parse(text));
        Assert.Contains("hf.co/ORG/REPO:QUANT", error.Message);
    }

    [Fact]
    public void Tags_of_any_case_share_one_store_folder()
    {
        var lower = ModelReference.Parse("hf.co/Org/Repo:q4_k_m");
        var upper = ModelReference.Parse("hf.co/org/repo:Q4_K_M");
        Assert.Equal(upper.StoreDirectory, lower.StoreDirectory);
        Assert.Equal("hf.co/Org/Repo:q4_k_m", lower.ToString());
    }

    [Fact]
    public void An_existing_file_is_never_taken_for_a_reference()
    {
        // A relative ORG/REPO folder under the current directory: the process-wide current directory is never
        // changed, since tests in other classes (a web host's content root) run beside this one.
        string org = "fathom-ref-" + Guid.NewGuid().ToString("N")[..8];
        string dir = Path.Combine(Environment.CurrentDirectory, org);
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "repo"));
            Assert.False(ModelStore.IsReference($"{org}/repo"));
            Assert.True(ModelStore.IsReference($"{org}/other"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
