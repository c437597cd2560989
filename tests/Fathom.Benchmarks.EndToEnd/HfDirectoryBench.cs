using System.Diagnostics;
using System.Globalization;
using Fathom.Engine.Model;
using Fathom.Engine.Tests.Model;
using Fathom.Gguf;
using Fathom.Safetensors;
using Fathom.Testing;

/// <summary>
/// <c>hf-dir [--shape 1b|small] [--prompt N] [--gen N] [--rounds R] [--threads T] [--dir D]</c>: the same synthetic
/// weights as a GGUF F16 file, as a sharded BF16 Hugging Face model directory (1 GiB shards and
/// model.safetensors.index.json) and as a one-file BF16 directory (both written from it, q/k in Transformers' order):
/// load time, prefill and decode tokens/s of each, alternating them in every round (best of R), plus the sharded
/// directory with <c>--quantize q8_0</c>. Prints markdown rows with the load average.
/// </summary>
internal static class HfDirectoryBench
{
    public static void Run(Dictionary<string, string> options)
    {
        var shape = options.GetValueOrDefault("shape", "1b") == "small" ? SyntheticLlamaShape.Small : SyntheticLlamaShape.Llama1B;
        var promptTokens = int.Parse(options.GetValueOrDefault("prompt", "64"), CultureInfo.InvariantCulture);
        var genTokens = int.Parse(options.GetValueOrDefault("gen", "16"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(options.GetValueOrDefault("rounds", "2"), CultureInfo.InvariantCulture);
        int? threads = options.TryGetValue("threads", out var t) ? int.Parse(t, CultureInfo.InvariantCulture) : null;
        var directory = options.GetValueOrDefault("dir", Path.Combine(Path.GetTempPath(), "fathom-bench"));
        var name = shape == SyntheticLlamaShape.Small ? "small" : "1b";
        Directory.CreateDirectory(directory);
        var gguf = Path.Combine(directory, $"synthetic-{name}-F16.gguf");
        if (!File.Exists(gguf))
        {
            SyntheticLlama.Write(gguf + ".tmp", shape, GgmlType.F16);
            File.Move(gguf + ".tmp", gguf, overwrite: true);
        }

        var hf = Path.Combine(directory, $"synthetic-{name}-bf16-hf");
        if (!File.Exists(Path.Combine(hf, SafetensorsCheckpoint.IndexFileName)))
        {
            HuggingFaceDirectories.WriteFromGguf(gguf, hf, SafetensorsDType.BF16, maxShardBytes: 1L << 30);
        }

        var single = Path.Combine(directory, $"synthetic-{name}-bf16-hf-single");
        if (!File.Exists(Path.Combine(single, SafetensorsCheckpoint.SingleFileName)))
        {
            HuggingFaceDirectories.WriteFromGguf(gguf, single, SafetensorsDType.BF16);
        }

        using (var checkpoint = SafetensorsCheckpoint.Open(hf))
        {
            Console.WriteLine($"GGUF {gguf}: {new FileInfo(gguf).Length / 1e6:F0} MB; directory {hf}: {checkpoint.FilePaths.Count} shards + {SafetensorsCheckpoint.IndexFileName}, {checkpoint.FileBytes / 1e6:F0} MB; {single}: one {SafetensorsCheckpoint.SingleFileName}");
        }

        var prompt = Enumerable.Range(0, promptTokens).Select(i => 259 + (i * 7919 % (shape.Vocabulary - 259))).ToArray();
        var blocks = ((promptTokens + genTokens) / 16) + 2;
        var variants = new (string Name, string Path, WeightQuantization Quantization)[]
        {
            ("GGUF F16", gguf, WeightQuantization.None),
            ("HF dir BF16 (sharded)", hf, WeightQuantization.None),
            ("HF dir BF16 (one file)", single, WeightQuantization.None),
            ("HF dir BF16 --quantize q8_0", hf, WeightQuantization.Q8_0),
        };
        var best = variants.ToDictionary(v => v.Name, _ => (Load: double.MaxValue, Prefill: 0.0, Decode: 0.0, Weights: 0L), StringComparer.Ordinal);
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (label, path, quantization) in variants)
            {
                var clock = Stopwatch.StartNew();
                using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = threads, KvBlockCount = blocks, Quantization = quantization });
                var load = clock.Elapsed.TotalSeconds;
                var (prefill, decode) = Measure(model, prompt, genTokens);
                var b = best[label];
                best[label] = (Math.Min(b.Load, load), Math.Max(b.Prefill, prefill), Math.Max(b.Decode, decode), model.WeightBytes);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: {label}: load {load:F2} s, prefill {prefill:F1} tok/s, decode {decode:F2} tok/s, weights {model.WeightBytes / 1e6:F0} MB"));
            }
        }

        var loadAverage = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        Console.WriteLine();
        Console.WriteLine($"| weights ({name} shape) | load s | prefill tok/s | decode tok/s | weights in memory | load average |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (label, _, _) in variants)
        {
            var b = best[label];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {b.Load:F2} | {b.Prefill:F1} | {b.Decode:F2} | {b.Weights / 1e6:F0} MB | {loadAverage} |"));
        }
    }

    private static (double Prefill, double Decode) Measure(LlamaModel model, int[] prompt, int gen)
    {
        var table = Enumerable.Range(0, model.KvBlockCount).ToArray();
        var logits = new float[model.HyperParameters.VocabularySize];
        var clock = Stopwatch.StartNew();
        model.Forward(ForwardBatch.ForSequence(prompt, 0, table), logits);
        var prefill = prompt.Length / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (var i = 0; i < gen; i++)
        {
            model.Forward(ForwardBatch.ForSequence([model.ArgMax(logits)], prompt.Length + i, table), logits);
        }

        return (prefill, gen / clock.Elapsed.TotalSeconds);
    }
}
