using System.Text.Json;
using Fathom.Gguf;
using Fathom.Testing;

namespace Fathom.Cli.Tests.Commands;

public sealed class InspectCommandTests
{
    public static TheoryData<string> ValidFiles => new()
    {
        SharedFixtures.Stories260K,
        SharedFixtures.LlamaTinyRandom,
        "vocab/ggml-vocab-llama-spm.gguf",
        "vocab/ggml-vocab-deepseek-llm.gguf",
        "vocab/ggml-vocab-deepseek-coder.gguf",
        "vocab/ggml-vocab-gpt-2.gguf",
    };

    [Fact]
    public void Every_shared_gguf_file_is_covered()
    {
        var root = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var shared = Path.GetDirectoryName(Path.GetDirectoryName(root))!;
        var present = new[] { "models", "vocab" }
            .SelectMany(d => Directory.GetFiles(Path.Combine(shared, d), "*.gguf"))
            .Select(f => Path.GetRelativePath(shared, f).Replace('\\', '/'))
            .Order();
        var covered = ValidFiles.Select(r => r.Data).Append(SharedFixtures.Stories260KQ8).Order();
        Assert.Equal(covered, present);
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public async Task Text_output_lists_version_metadata_and_every_tensor(string relativePath)
    {
        var path = SharedFixtures.Default.GetPath(relativePath);
        var (exit, output, error) = await CliRunner.RunAsync("inspect", path);

        Assert.Equal(0, exit);
        Assert.Empty(error);
        using var file = GgufFile.Open(path);
        Assert.Contains($"GGUF v{file.Version}, alignment {file.Alignment}", output);
        Assert.Contains("general.architecture", output);
        Assert.Contains($"tensors: {file.Tensors.Count}", output);
        foreach (var t in file.Tensors)
        {
            Assert.Contains($"  {t.Name} ", output);
        }

        // The vocabulary is summarised, not printed in full.
        var tokens = file.Metadata.GetStringArray("tokenizer.ggml.tokens")!;
        Assert.Contains($"[{tokens.Length} items: ", output);
        Assert.True(output.Length < 20_000, $"output is {output.Length} characters");
        Assert.Contains("total: ", output);
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public async Task Json_output_matches_the_file(string relativePath)
    {
        var path = SharedFixtures.Default.GetPath(relativePath);
        var (exit, output, _) = await CliRunner.RunAsync("inspect", path, "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        using var file = GgufFile.Open(path);
        var root = json.RootElement;
        Assert.Equal((int)file.Version, root.GetProperty("version").GetInt32());
        Assert.Equal(file.DataOffset, root.GetProperty("dataOffset").GetInt64());
        Assert.Equal(file.Metadata.Count, root.GetProperty("metadata").EnumerateObject().Count());
        Assert.Equal(file.Metadata.Architecture, root.GetProperty("metadata").GetProperty("general.architecture").GetString());
        var tokens = root.GetProperty("metadata").GetProperty("tokenizer.ggml.tokens");
        Assert.Equal(file.Metadata["tokenizer.ggml.tokens"].Count, tokens.GetProperty("count").GetInt32());
        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(file.Tensors.Count, tensors.Count);
        Assert.Equal(file.Tensors.Sum(t => t.ByteSize), root.GetProperty("totals").GetProperty("bytes").GetInt64());
        for (var i = 0; i < tensors.Count; i++)
        {
            Assert.Equal(file.Tensors[i].Name, tensors[i].GetProperty("name").GetString());
            Assert.Equal(file.Tensors[i].Dimensions, tensors[i].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        }
    }

    [Fact]
    public async Task The_v2_Q8_0_file_shows_its_metadata_and_fails_with_one_line_naming_the_tensor()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260KQ8);
        var (exit, output, error) = await CliRunner.RunAsync("inspect", path);

        Assert.Equal(2, exit);
        Assert.Contains("tinyllamas-stories-260k", output);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("blk.0.ffn_down.weight", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task A_missing_file_is_one_line_and_exit_code_2()
    {
        var (exit, output, error) = await CliRunner.RunAsync("inspect", "/no/such/model.gguf");
        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("/no/such/model.gguf", error);
    }

    [Fact]
    public async Task A_malformed_file_is_one_line_and_exit_code_2()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fathom-inspect-{Guid.NewGuid():N}.gguf");
        try
        {
            await File.WriteAllBytesAsync(path, "GGUF\x01\0\0\0 not really"u8.ToArray(), TestContext.Current.CancellationToken);
            var (exit, _, error) = await CliRunner.RunAsync("inspect", path);
            Assert.Equal(2, exit);
            Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("GGUF v1 is not supported", error);
            Assert.DoesNotContain("   at ", error);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
