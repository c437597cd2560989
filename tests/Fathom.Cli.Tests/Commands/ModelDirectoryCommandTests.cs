using System.Text.Json;
using Fathom.Safetensors;
using Fathom.Testing;

namespace Fathom.Cli.Tests.Commands;

/// <summary><c>--model DIR</c> through the command line: generate (with --quantize), inspect and plan on a Hugging Face model directory.</summary>
public sealed class ModelDirectoryCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fathom-cli-dir-").FullName;
    private readonly string _dir;

    public ModelDirectoryCommandTests()
    {
        _dir = Path.Combine(_root, "llama3-tiny");
        SyntheticLlama3Directory.Write(_dir, maxShardBytes: 8 << 20);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Generate_runs_a_directory_with_its_own_tokenizer_and_quantized_gives_a_close_start()
    {
        var (exit, output, error) = await CliRunner.RunAsync("generate", "--model", _dir, "--prompt", "Hello world", "--max-tokens", "6", "--threads", "2", "--json");
        Assert.True(exit == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal([128000, 9906, 1917], root.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
        var tokens = root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.NotEmpty(tokens);

        var (qExit, qOutput, qError) = await CliRunner.RunAsync("generate", "--model", _dir, "--prompt", "Hello world", "--max-tokens", "1", "--threads", "2", "--quantize", "q8_0", "--json");
        Assert.True(qExit == 0, qError);
        Assert.Equal(tokens[0], JsonDocument.Parse(qOutput).RootElement.GetProperty("tokens")[0].GetInt32());
    }

    [Fact]
    public async Task An_unknown_quantize_is_rejected_naming_the_option()
    {
        var (exit, _, error) = await CliRunner.RunAsync("generate", "--model", _dir, "--prompt-ids", "1", "--quantize", "fp4");
        Assert.Equal(2, exit);
        Assert.Contains("--quantize 'fp4'", error, StringComparison.Ordinal);
        Assert.Contains("q8_0, q4_k", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_shows_config_dtypes_and_tensors()
    {
        var (exit, output, error) = await CliRunner.RunAsync("inspect", _dir);
        Assert.True(exit == 0, error);
        Assert.Contains("LlamaForCausalLM", output, StringComparison.Ordinal);
        Assert.Contains("num_key_value_heads 2", output, StringComparison.Ordinal);
        Assert.Contains("rope_scaling llama3", output, StringComparison.Ordinal);
        Assert.Contains("quantization: none", output, StringComparison.Ordinal);
        Assert.Contains("fathom runs it: yes", output, StringComparison.Ordinal);
        Assert.Matches(@"model\.layers\.1\.self_attn\.k_proj\.weight +BF16 +\[32, 64\]", output);

        var (jsonExit, json, _) = await CliRunner.RunAsync("inspect", _dir, "--json");
        Assert.Equal(0, jsonExit);
        var root = JsonDocument.Parse(json).RootElement;
        using var checkpoint = SafetensorsCheckpoint.Open(_dir);
        Assert.Equal(checkpoint.TensorBytes, root.GetProperty("totals").GetProperty("bytes").GetInt64());
        Assert.Equal(checkpoint.FilePaths.Count, root.GetProperty("files").GetArrayLength());
        Assert.Equal(128256, root.GetProperty("config").GetProperty("vocab_size").GetInt32());
    }

    [Fact]
    public async Task Inspect_a_damaged_directory_fails_naming_the_file_and_field()
    {
        var shard = Directory.GetFiles(_dir, "model-*.safetensors").Order(StringComparer.Ordinal).First();
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..(bytes.Length / 2)]);

        var (exit, _, error) = await CliRunner.RunAsync("inspect", _dir);
        Assert.Equal(2, exit);
        Assert.Contains(Path.GetFileName(shard), error, StringComparison.Ordinal);
        Assert.Contains(".data_offsets", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_counts_the_exact_bytes_of_the_safetensors_headers()
    {
        var (exit, output, error) = await CliRunner.RunAsync("plan", "--model", _dir, "--gpu", "h100-sxm", "--json");
        Assert.True(exit == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        using var checkpoint = SafetensorsCheckpoint.Open(_dir);
        Assert.Equal(checkpoint.TensorBytes, root.GetProperty("weights_bytes").GetInt64());
        Assert.Contains(root.GetProperty("assumptions").EnumerateArray(), a => a.GetString()!.Contains("safetensors headers", StringComparison.Ordinal));
    }
}
