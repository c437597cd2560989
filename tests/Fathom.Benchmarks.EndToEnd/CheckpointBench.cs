using System.Diagnostics;
using System.Globalization;
using Fathom.Engine.Model;
using Fathom.Engine.Tests.Model;
using Fathom.Gguf;

/// <summary>
/// CPU prefill and decode of one synthetic 1B-layer-shape model in every quantized form (issue #22): FP8
/// (compressed-tensors, per channel), AWQ and GPTQ model directories written from the F32 GGUF, against Fathom's GGUF
/// Q8_0 and Q4_0 of the same seeded weights, and llama.cpp on those GGUF files. All models are loaded first, then
/// measured round-robin (best of --rounds), so load drift from other processes hits them alike; the run prints the load
/// average and ratios to Fathom's Q8_0.
/// </summary>
internal static class CheckpointBench
{
    public static void Run(Dictionary<string, string> options)
    {
        var layers = int.Parse(options.GetValueOrDefault("layers", "4"), CultureInfo.InvariantCulture);
        var threads = int.Parse(options.GetValueOrDefault("threads", "1"), CultureInfo.InvariantCulture);
        var promptTokens = int.Parse(options.GetValueOrDefault("prompt", "64"), CultureInfo.InvariantCulture);
        var genTokens = int.Parse(options.GetValueOrDefault("gen", "16"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(options.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture);
        var directory = options.GetValueOrDefault("dir", Path.Combine(Path.GetTempPath(), "fathom-bench-checkpoints"));
        var shape = SyntheticLlamaShape.Llama1B with { Layers = layers };
        Directory.CreateDirectory(directory);

        string Gguf(GgmlType type)
        {
            var path = Path.Combine(directory, $"synthetic-1b-{layers}l-{type}.gguf");
            if (!File.Exists(path))
            {
                SyntheticLlama.Write(path + ".tmp", shape, type);
                File.Move(path + ".tmp", path, overwrite: true);
            }

            return path;
        }

        var f32 = Gguf(GgmlType.F32);
        var models = new List<(string Name, string Path)> { ("GGUF Q8_0", Gguf(GgmlType.Q8_0)), ("GGUF Q4_0", Gguf(GgmlType.Q4_0)) };
        foreach (var (name, format) in new[] { ("FP8 (compressed-tensors, per channel)", CheckpointFormat.Fp8PerChannel), ("AWQ GEMM g128", CheckpointFormat.Awq), ("GPTQ sym g128", CheckpointFormat.GptqSymmetric) })
        {
            var path = Path.Combine(directory, $"synthetic-1b-{layers}l-{format}");
            if (!File.Exists(Path.Combine(path, "model.safetensors")))
            {
                var clock = Stopwatch.StartNew();
                QuantizedCheckpointDirectory.Write(f32, format, path, referenceDirectory: null);
                Console.WriteLine($"wrote {path} in {clock.Elapsed.TotalSeconds:F0} s");
            }

            models.Add((name, path));
        }

        Console.WriteLine($"shape: embd {shape.EmbeddingLength}, layers {shape.Layers}, heads {shape.Heads}/{shape.KvHeads}, ffn {shape.FeedForwardLength}, vocab {shape.Vocabulary}; {threads} thread(s); prompt {promptTokens}, gen {genTokens}, best of {rounds}");
        var prompt = Enumerable.Range(0, promptTokens).Select(i => 259 + (i * 7919 % (shape.Vocabulary - 259))).ToArray();
        var loaded = new List<(string Name, LlamaModel Model, double LoadSeconds)>();
        foreach (var (name, path) in models)
        {
            var clock = Stopwatch.StartNew();
            var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = threads, KvBlockCount = ((promptTokens + genTokens) / 16) + 2 });
            loaded.Add((name, model, clock.Elapsed.TotalSeconds));
            FathomTiming.Measure(model, prompt, 2); // warm
        }

        var llama = new[] { ("llama.cpp Q8_0", new LlamaCppRunner(models[0].Path, threads, promptTokens + genTokens + 16)), ("llama.cpp Q4_0", new LlamaCppRunner(models[1].Path, threads, promptTokens + genTokens + 16)) };
        var best = new Dictionary<string, (double Prefill, double Decode)>(StringComparer.Ordinal);
        for (var round = 0; round < rounds; round++)
        {
            Console.WriteLine($"round {round + 1}: load average {File.ReadAllText("/proc/loadavg").Trim()}");
            foreach (var (name, model, _) in loaded)
            {
                Keep(best, name, FathomTiming.Measure(model, prompt, genTokens));
            }

            foreach (var (name, runner) in llama)
            {
                Keep(best, name, runner.Measure(prompt, genTokens));
            }
        }

        var q8 = best["GGUF Q8_0"];
        Console.WriteLine();
        Console.WriteLine("| weights | engine | bytes held | load s | prefill tok/s | vs Fathom Q8_0 | decode tok/s | vs Fathom Q8_0 |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (name, model, seconds) in loaded)
        {
            var (p, d) = best[name];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | Fathom | {model.WeightBytes / 1048576.0:F0} MiB | {seconds:F1} | {p:F1} | {p / q8.Prefill:F2}× | {d:F2} | {d / q8.Decode:F2}× |"));
            model.Dispose();
        }

        foreach (var (name, runner) in llama)
        {
            var (p, d) = best[name];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name[10..]} | llama.cpp | | | {p:F1} | {p / q8.Prefill:F2}× | {d:F2} | {d / q8.Decode:F2}× |"));
            runner.Dispose();
        }

        Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static void Keep(Dictionary<string, (double Prefill, double Decode)> best, string name, (double Prefill, double Decode) run) =>
        best[name] = best.TryGetValue(name, out var b) ? (Math.Max(b.Prefill, run.Prefill), Math.Max(b.Decode, run.Decode)) : run;
}
