using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fathom.Engine.Model;

namespace Fathom.Cli.Commands;

/// <summary><c>fathom bench --model FILE</c>: prefill and decode tokens per second, best of several runs.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The GGUF model file.", Required = true };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length of the prefill step.", DefaultValueFactory = _ => 128 };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Tokens decoded one at a time.", DefaultValueFactory = _ => 64 };
        var runs = new Option<int>("--runs") { Description = "Runs; the best is reported.", DefaultValueFactory = _ => 3 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: physical cores)." };
        var backend = ModelCommandSupport.BackendOption();
        var json = new Option<bool>("--json") { Description = "Print {\"prefill_tok_s\":..,\"decode_tok_s\":..}." };
        var command = new Command("bench", "Measure prefill and decode speed on a model.") { model, promptTokens, genTokens, runs, threads, backend, json };
        command.SetAction(r => Run(
            r.GetRequiredValue(model), r.GetValue(promptTokens), r.GetValue(genTokens), r.GetValue(runs), r.GetValue(threads),
            r.GetValue(backend) ?? "auto", r.GetValue(json), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(string path, int promptTokens, int genTokens, int runs, int? threads, string backend, bool json,
        TextWriter output, TextWriter error)
    {
        try
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(promptTokens);
            ArgumentOutOfRangeException.ThrowIfNegative(genTokens);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
            var blocks = ((promptTokens + genTokens) / 16) + 2;
            using var llama = ModelCommandSupport.Load(path, threads, ModelCommandSupport.ParseBackend(backend), blocks, error);
            var (prefill, decode) = Measure(llama, promptTokens, genTokens, runs);
            if (json)
            {
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["prefill_tok_s"] = Math.Round(prefill, 2),
                    ["decode_tok_s"] = Math.Round(decode, 2),
                    ["prompt_tokens"] = promptTokens,
                    ["gen_tokens"] = genTokens,
                    ["backend"] = llama.BackendName,
                }));
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"prefill: {prefill:F1} tok/s ({promptTokens} tokens)  decode: {decode:F2} tok/s ({genTokens} tokens)  backend: {llama.BackendName}"));
            }

            return 0;
        }
        catch (Exception e) when (ModelCommandSupport.IsUserError(e))
        {
            return ModelCommandSupport.Fail(error, "bench", e);
        }
    }

    /// <summary>Best prefill and decode tokens/s over <paramref name="runs"/> runs (the cache is overwritten each run).</summary>
    internal static (double Prefill, double Decode) Measure(LlamaModel model, int promptTokens, int genTokens, int runs)
    {
        var vocab = model.HyperParameters.VocabularySize;
        var prompt = Enumerable.Range(0, promptTokens).Select(i => 3 + (int)((i * 7919L) % Math.Max(1, vocab - 3))).ToArray();
        var table = Enumerable.Range(0, model.KvBlockCount).ToArray();
        var logits = new float[vocab];
        double bestPrefill = 0, bestDecode = 0;
        for (var run = 0; run < runs; run++)
        {
            var clock = Stopwatch.StartNew();
            model.Forward(ForwardBatch.ForSequence(prompt, 0, table), logits);
            bestPrefill = Math.Max(bestPrefill, promptTokens / clock.Elapsed.TotalSeconds);
            clock.Restart();
            for (var i = 0; i < genTokens; i++)
            {
                model.Forward(ForwardBatch.ForSequence([model.ArgMax(logits)], promptTokens + i, table), logits);
            }

            if (genTokens > 0)
            {
                bestDecode = Math.Max(bestDecode, genTokens / clock.Elapsed.TotalSeconds);
            }
        }

        return (bestPrefill, bestDecode);
    }
}
