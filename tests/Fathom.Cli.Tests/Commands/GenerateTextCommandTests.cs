using System.Text;
using System.Text.Json;
using Fathom.Testing;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Fathom.Cli.Tests.Commands;

/// <summary><c>fathom generate --prompt TEXT</c> against llama.cpp's own tokenizer, greedy loop and detokenizer.</summary>
public sealed class GenerateTextCommandTests
{
    private static string Stories => SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    [Theory]
    [InlineData("Once upon a time")]
    [InlineData("The dog said")]
    public async Task Greedy_story_from_text_is_the_one_llama_cpp_writes(string prompt)
    {
        const int Tokens = 64;
        var (expectedPrompt, expectedTokens, expectedText) = LlamaCppGreedy(Stories, prompt, Tokens);

        var (exit, output, error) = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt", prompt, "--max-tokens", $"{Tokens}", "--threads", "1", "--json");
        Assert.True(exit == 0, error);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(expectedPrompt, doc.RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(expectedTokens, doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(expectedText, doc.RootElement.GetProperty("text").GetString());

        // Streaming prints the same text.
        var streamed = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt", prompt, "--max-tokens", $"{Tokens}", "--threads", "1", "--backend", "cpu");
        Assert.Equal(0, streamed.ExitCode);
        Assert.Equal(expectedText + Environment.NewLine, streamed.Output);
    }

    [Fact]
    public async Task Unknown_backend_is_one_line_naming_the_choices()
    {
        var (exit, _, error) = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt", "Hi", "--backend", "abacus");
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("reference", error);
    }

    [Fact]
    public async Task Reference_backend_by_name_writes_the_same_greedy_tokens()
    {
        string[] common = ["generate", "--model", Stories, "--prompt", "Once upon a time", "--max-tokens", "12", "--json"];
        var cpu = await CliRunner.RunAsync([.. common, "--backend", "cpu"]);
        var reference = await CliRunner.RunAsync([.. common, "--backend", "reference"]);
        Assert.Equal(0, reference.ExitCode);
        Assert.Equal(cpu.Output, reference.Output);
    }

    /// <summary>llama.cpp: tokenize with BOS as the model asks, greedy decode, detokenize; stops at end-of-generation.</summary>
    private static (int[] Prompt, int[] Tokens, string Text) LlamaCppGreedy(string path, string prompt, int count)
    {
        NativeLogConfig.llama_log_set((level, message) => { });
        var parameters = new ModelParams(path) { ContextSize = 256, BatchSize = 256, Threads = 1, GpuLayerCount = 0 };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var promptTokens = context.Tokenize(prompt, addBos: true, special: false);
        var batch = new LLamaBatch();
        var index = batch.AddRange(promptTokens, 0, LLamaSeqId.Zero, true);
        Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        var tokens = new List<int>();
        var decoder = new StreamingTokenDecoder(context);
        var text = new StringBuilder();
        for (var position = promptTokens.Length; tokens.Count < count; position++)
        {
            var logits = context.NativeHandle.GetLogitsIth(index);
            var next = 0;
            for (var i = 1; i < logits.Length; i++)
            {
                next = logits[i] > logits[next] ? i : next;
            }

            tokens.Add(next);
            if (((LLamaToken)next).IsEndOfGeneration(weights.Vocab))
            {
                break;
            }

            decoder.Add(next);
            text.Append(decoder.Read());
            batch.Clear();
            index = batch.Add(next, position, LLamaSeqId.Zero, true);
            Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        }

        return ([.. promptTokens.Select(t => (int)t)], [.. tokens], text.ToString());
    }
}
