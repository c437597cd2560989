using System.Text.Json;
using Fathom.Engine.Tokenization;
using Fathom.Testing;

namespace Fathom.Cli.Tests;

public sealed class TokenizeCommandTests
{
    public static readonly TheoryData<string> Files =
    [
        SharedFixtures.Stories260K,
        SharedFixtures.LlamaTinyRandom,
        "vocab/ggml-vocab-llama-spm.gguf",
        "vocab/ggml-vocab-deepseek-llm.gguf",
        "vocab/ggml-vocab-deepseek-coder.gguf",
        "vocab/ggml-vocab-gpt-2.gguf",
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Json_output_is_the_tokenizers_ids_for_each_flag_combination(string file)
    {
        var path = SharedFixtures.Default.GetPath(file);
        var tokenizer = GgufTokenizerVocabulary.CreateTokenizer(path);
        const string text = "Hello world </s> <|endoftext|> 你好 🦙";
        foreach (var (bos, special) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var args = new List<string> { "tokenize", "--model", path, "--text", text, "--json" };
            if (bos)
            {
                args.Add("--bos");
            }
            if (special)
            {
                args.Add("--special");
            }
            var (exit, output, error) = await CliRunner.RunAsync([.. args]);
            Assert.True(exit == 0, error);
            using var json = JsonDocument.Parse(output);
            var ids = json.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(tokenizer.Encode(text, bos, special), ids);
        }
    }

    [Fact]
    public async Task Stories_prompt_with_bos_gives_llama_cpps_ids()
    {
        // shared/README.md records llama.cpp's ids for this prompt.
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var (exit, output, _) = await CliRunner.RunAsync("tokenize", "--model", path, "--text", "Once upon a time", "--bos");
        Assert.Equal(0, exit);
        Assert.Equal("1 403 407 261 378", output.Trim());
    }

    [Fact]
    public async Task Without_bos_the_prompt_has_no_bos()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var (exit, output, _) = await CliRunner.RunAsync("tokenize", "--model", path, "--text", "Once upon a time");
        Assert.Equal(0, exit);
        Assert.Equal("403 407 261 378", output.Trim());
    }

    [Fact]
    public async Task A_missing_file_is_one_line_and_exit_2()
    {
        var (exit, output, error) = await CliRunner.RunAsync("tokenize", "--model", "/no/such/model.gguf", "--text", "x");
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("model.gguf", error);
    }

    [Fact]
    public async Task A_file_that_is_not_gguf_is_one_line_and_exit_2()
    {
        var path = SharedFixtures.Default.GetPath("vocab/ggml-vocab-gpt-2.gguf.inp");
        var (exit, _, error) = await CliRunner.RunAsync("tokenize", "--model", path, "--text", "x");
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("GGUF", error);
    }

    [Fact]
    public async Task The_rejected_v2_file_is_one_line_and_exit_2()
    {
        // llama.cpp rejects this file too: its Q8_0 ffn_down rows are not a multiple of the block size.
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260KQ8);
        var (exit, _, error) = await CliRunner.RunAsync("tokenize", "--model", path, "--text", "x");
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_directory_with_only_tokenizer_files_tokenizes_as_hugging_face()
    {
        // shared/hf-tokenizers/llama-3.1 holds tokenizer.json and tokenizer_config.json and nothing of the model.
        SharedFixtures.Default.GetPath("hf-tokenizers/llama-3.1/tokenizer_config.json");
        var directory = Path.GetDirectoryName(SharedFixtures.Default.GetPath("hf-tokenizers/llama-3.1/tokenizer.json"))!;
        var inp = File.ReadAllText(SharedFixtures.Default.GetPath("hf-tokenizers/llama-3.1/vectors.inp")).Split("\n__ggml_vocab_test__\n");
        var expected = File.ReadAllLines(SharedFixtures.Default.GetPath("hf-tokenizers/llama-3.1/vectors.out"));
        foreach (var i in new[] { 3, 10, 20, 45 })
        {
            var (exit, output, error) = await CliRunner.RunAsync("tokenize", "--model", directory, "--text", inp[i]);
            Assert.True(exit == 0, error);
            Assert.Equal(expected[i].Trim(), output.Trim());
        }

        // --bos: the post-processor's <|begin_of_text|>; --special parses <|eot_id|>.
        var (code, ids, _) = await CliRunner.RunAsync("tokenize", "--model", directory, "--text", "Hello<|eot_id|>", "--bos", "--special", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(ids);
        Assert.Equal([128000, 9906, 128009], json.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public async Task A_directory_without_tokenizer_json_is_one_line_and_exit_2()
    {
        var directory = Directory.CreateTempSubdirectory("fathom-tokenize-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), "{}");
            var (exit, output, error) = await CliRunner.RunAsync("tokenize", "--model", directory, "--text", "x");
            Assert.Equal(2, exit);
            Assert.Equal("", output);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains("tokenizer.json", error);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
