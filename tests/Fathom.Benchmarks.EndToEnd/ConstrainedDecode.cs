using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fathom.Engine.Constraints;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Tests.Model;
using Fathom.Gguf;

/// <summary>
/// <c>constrained [--model P] [--gen N] [--rounds R] [--threads T] [--dir D]</c>: decode tokens/s through the engine host
/// on the 1B-shape Q8_0 synthetic model, free versus under a JSON Schema constraint (masks computed while the forward
/// pass runs, and on the loop thread after it), best of R rounds, alternating modes. Decode time is the time between
/// a request's tokens (its first token, which carries the prefill, is left out).
/// </summary>
internal static class ConstrainedDecode
{
    private const string Schema = """
        {"type":"object","properties":{"title":{"type":"string"},"tags":{"type":"array","items":{"type":"string"},"maxItems":8},
         "count":{"type":"integer","minimum":0,"maximum":1000},"done":{"type":"boolean"}},"required":["title","tags","count","done"],"additionalProperties":false}
        """;

    public static async Task RunAsync(Dictionary<string, string> options)
    {
        int gen = int.Parse(options.GetValueOrDefault("gen", "64"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(options.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture);
        int? threads = options.TryGetValue("threads", out var t) ? int.Parse(t, CultureInfo.InvariantCulture) : null;
        string path = options.GetValueOrDefault("model", Path.Combine(options.GetValueOrDefault("dir", Path.Combine(Path.GetTempPath(), "fathom-bench")), "synthetic-1b-Q8_0.gguf"));
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            SyntheticLlama.Write(path + ".tmp", SyntheticLlamaShape.Llama1B, GgmlType.Q8_0);
            File.Move(path + ".tmp", path, overwrite: true);
        }

        using var model = ServedModel.Load(path, new ServedModelOptions { Threads = threads, MaxModelLength = 1024, KvCacheMemoryBytes = 256L << 20 });
        var clock = Stopwatch.StartNew();
        _ = model.ConstraintTokens.Vocabulary;
        double vocabularyMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var grammar = Grammar.FromJsonSchema(JsonDocument.Parse(Schema).RootElement);
        var factory = ChatConstraints.Factory(grammar, model.ConstraintTokens);
        double compileMs = clock.Elapsed.TotalMilliseconds;
        Console.WriteLine($"model {path}: vocab {model.Tokenizer.Count}; constraint vocabulary built in {vocabularyMs:F0} ms, schema compiled (with token tables) in {compileMs:F0} ms");

        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        var modes = new (string Name, Func<ITokenConstraint>? Constraint, bool Overlap)[] { ("free", null, true), ("json-schema, masks during forward", factory, true), ("json-schema, masks after forward", factory, false) };
        for (int round = 0; round < rounds; round++)
        {
            foreach (var (name, constraint, overlap) in modes)
            {
                double rate = await DecodeRateAsync(model, constraint, overlap, gen);
                best[name] = Math.Max(best.GetValueOrDefault(name), rate);
                Console.WriteLine($"round {round + 1}: {name}: {rate:F2} tok/s");
            }
        }

        foreach (var (name, _, _) in modes)
        {
            Console.WriteLine($"best {name}: {best[name]:F2} tok/s ({100 * best[name] / best["free"]:F1}% of free)");
        }
    }

    // Greedy decode until gen tokens have been timed (a constrained answer that completes early is followed by another).
    private static async Task<double> DecodeRateAsync(ServedModel model, Func<ITokenConstraint>? constraint, bool overlap, int gen)
    {
        using var host = EngineHostFactory.Create(model, options: new EngineHostOptions { OverlapConstraintMasks = overlap });
        int[] prompt = [.. Enumerable.Range(0, 16).Select(i => 259 + (i * 7919 % 30000))];
        int timed = 0;
        double seconds = 0;
        for (int request = 0; timed < gen && request < 50; request++)
        {
            var sampling = new SamplingParams { Temperature = 0, MaxTokens = gen - timed + 1, IgnoreEos = constraint is null };
            var outputs = await host.SubmitAsync(new EngineRequest("bench", prompt, sampling) { Constraint = constraint });
            long? last = null;
            await foreach (var output in outputs.Outputs.ReadAllAsync())
            {
                long now = Stopwatch.GetTimestamp();
                if (last is { } previous)
                {
                    seconds += Stopwatch.GetElapsedTime(previous, now).TotalSeconds;
                    timed++;
                }

                last = now;
            }
        }

        return timed / seconds;
    }
}
