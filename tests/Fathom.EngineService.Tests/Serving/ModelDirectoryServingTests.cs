using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fathom.Engine.Model;
using Fathom.Engine.Tokenization;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>
/// The engine service on a Hugging Face model directory (synthetic Llama-3 weights with the real Llama-3.1 tokenizer
/// files): <c>--quantize q8_0|q4_k|fp8</c> serves it in less memory, shown in the log and in
/// <c>fathom_engine_weights_memory_bytes</c>, and it answers; generation_config.json's temperature/top_p are the
/// defaults of a request that leaves them out and yield to a request that sets them; its <c>eos_token_id</c> stops
/// generation.
/// </summary>
public sealed class ModelDirectoryServingTests : IDisposable
{
    private const string WeightsSeries = "fathom_engine_weights_memory_bytes";

    private readonly string _root = Directory.CreateTempSubdirectory("fathom-engine-dir-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Quantize_on_load_serves_the_directory_in_less_memory_and_answers()
    {
        // 256-wide rows: whole Q4_K super-blocks, so q4_k really gives Q4_K.
        var dir = Path.Combine(_root, "llama3-256");
        SyntheticLlama3Directory.Write(dir, hidden: 256, layers: 1, heads: 4, kvHeads: 2, ffn: 256, maxShardBytes: 48 << 20);

        double unquantized;
        string baselineText;
        await using (var plain = await EngineServiceProcess.StartAsync(model: dir, readyTimeout: TimeSpan.FromMinutes(5)))
        {
            unquantized = await WeightBytesAsync(plain, "");
            Assert.True(await WeightBytesAsync(plain, "fathom_weights_type=\"BF16\"") > unquantized * 0.99);
            Assert.Contains("--quantize none", plain.Output, StringComparison.Ordinal);
            baselineText = await CompleteAsync(plain, new { prompt = "Hello world", max_tokens = 4, temperature = 0 });
        }

        foreach (var (quantize, type, most) in new[] { ("q8_0", "Q8_0", 0.56), ("q4_k", "Q4_K", 0.32), ("fp8", "fp8-e4m3-rows", 0.53) })
        {
            await using var engine = await EngineServiceProcess.StartAsync(model: dir, arguments: ["--quantize", quantize], readyTimeout: TimeSpan.FromMinutes(5));
            var total = await WeightBytesAsync(engine, "");
            Assert.True(total < unquantized * most, $"--quantize {quantize}: {total} bytes in memory, {unquantized} as BF16");
            Assert.Null(PrometheusText.Value(await MetricsAsync(engine), WeightsSeries, "fathom_weights_type=\"BF16\""));
            Assert.True(await WeightBytesAsync(engine, $"fathom_weights_type=\"{type}\"") > total * 0.9, $"--quantize {quantize}: not mostly {type}");
            Assert.Contains($"{total} bytes in memory", engine.Output, StringComparison.Ordinal);
            Assert.Contains($"--quantize {quantize}", engine.Output, StringComparison.Ordinal);
            Assert.Contains($"{type} ", engine.Output, StringComparison.Ordinal);

            var text = await CompleteAsync(engine, new { prompt = "Hello world", max_tokens = 4, temperature = 0 });
            Assert.False(string.IsNullOrEmpty(text), $"--quantize {quantize} answered nothing");
            if (quantize == "q8_0")
            {
                Assert.Equal(baselineText, text); // 8-bit weights keep this peaked model's greedy tokens
            }
        }
    }

    [Fact]
    public async Task Generation_config_sets_the_defaults_a_request_overrides_and_its_eos_ids_stop()
    {
        var dir = Path.Combine(_root, "llama3");
        SyntheticLlama3Directory.Write(dir);
        var tokenizer = HuggingFaceTokenizerFiles.Load(dir).Tokenizer;
        var greedy = Greedy(dir, tokenizer.Encode("Hello world", addSpecial: true), 16);

        // Make the first greedy token that is new (not earlier in the output) an end-of-sequence id of generation_config.json.
        var stop = Enumerable.Range(1, greedy.Length - 1).First(i => !greedy.AsSpan(0, i).Contains(greedy[i]) && !tokenizer.EndOfGenerationIds.Contains(greedy[i]));
        var generation = new JsonObject
        {
            ["bos_token_id"] = 128000,
            ["eos_token_id"] = new JsonArray(128001, 128008, 128009, greedy[stop]),
            ["do_sample"] = true,
            ["temperature"] = 5.0,
            ["top_p"] = 0.5,
        };
        File.WriteAllText(Path.Combine(dir, "generation_config.json"), generation.ToJsonString());

        await using var engine = await EngineServiceProcess.StartAsync(model: dir);

        // EOS ids: greedy generation stops before the new EOS token; ignore_eos runs on through it.
        var (text, finish) = await CompleteWithFinishAsync(engine, new { prompt = "Hello world", max_tokens = 16, temperature = 0 });
        Assert.Equal("stop", finish);
        Assert.Equal(tokenizer.Decode(greedy.AsSpan(0, stop)), text);
        var (through, throughFinish) = await CompleteWithFinishAsync(engine, new { prompt = "Hello world", max_tokens = 16, temperature = 0, ignore_eos = true });
        Assert.Equal("length", throughFinish);
        Assert.Equal(tokenizer.Decode(greedy), through);

        // Defaults: a request without temperature/top_p samples as one with generation_config.json's values, not OpenAI's (1, 1).
        var defaults = await CompleteAsync(engine, new { prompt = "Hello world", max_tokens = 16, seed = 11, ignore_eos = true });
        Assert.Equal(await CompleteAsync(engine, new { prompt = "Hello world", max_tokens = 16, seed = 11, ignore_eos = true, temperature = 5.0, top_p = 0.5 }), defaults);
        Assert.NotEqual(await CompleteAsync(engine, new { prompt = "Hello world", max_tokens = 16, seed = 11, ignore_eos = true, temperature = 1.0, top_p = 0.5 }), defaults);
        Assert.NotEqual(await CompleteAsync(engine, new { prompt = "Hello world", max_tokens = 16, seed = 11, ignore_eos = true, temperature = 5.0, top_p = 1.0 }), defaults);
        Assert.NotEqual(through, defaults);
    }

    private static int[] Greedy(string dir, int[] prompt, int count)
    {
        using var model = LlamaModel.Load(dir, new ModelLoadOptions { Threads = 1, KvBlockCount = 4 });
        var table = Enumerable.Range(0, model.KvBlockCount).ToArray();
        var logits = new float[model.HyperParameters.VocabularySize];
        model.Forward(ForwardBatch.ForSequence(prompt, 0, table), logits);
        var tokens = new int[count];
        for (var i = 0; i < count; i++)
        {
            tokens[i] = model.ArgMax(logits);
            model.Forward(ForwardBatch.ForSequence([tokens[i]], prompt.Length + i, table), logits);
        }

        return tokens;
    }

    private static async Task<string> CompleteAsync(ServiceProcess engine, object body) => (await CompleteWithFinishAsync(engine, body)).Text;

    private static async Task<(string Text, string? Finish)> CompleteWithFinishAsync(ServiceProcess engine, object body)
    {
        using var http = new HttpClient { BaseAddress = engine.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        using var response = await http.PostAsync("/v1/completions", CompletionsTests.JsonContent(body), Ct);
        var json = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        var choice = JsonDocument.Parse(json).RootElement.GetProperty("choices")[0];
        return (choice.GetProperty("text").GetString()!, choice.GetProperty("finish_reason").GetString());
    }

    private static async Task<string> MetricsAsync(ServiceProcess engine)
    {
        using var http = new HttpClient { BaseAddress = engine.BaseAddress };
        return await http.GetStringAsync("/metrics", Ct);
    }

    // The exporter may answer from its short cache at first: poll.
    private static async Task<double> WeightBytesAsync(ServiceProcess engine, string labelFilter)
    {
        for (var i = 0; i < 100; i++)
        {
            if (PrometheusText.Value(await MetricsAsync(engine), WeightsSeries, labelFilter) is { } value and > 0)
            {
                return value;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"{WeightsSeries}{{{labelFilter}}} was not published:\n{await MetricsAsync(engine)}");
        return 0;
    }
}
