using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Fathom.Engine.Backends;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

/// <summary>
/// Where a prefill's time goes: `prefill-profile [--types Q8_0,Q4_K_M] [--threads 1] [--prompt 128] [--rounds 3]
/// [--dir /tmp/fathom-bench]` loads each synthetic 1B-shape model (written by the default benchmark), puts a timing
/// decorator in front of its CPU backend and prints, for the fastest of the rounds, the milliseconds of each
/// operation (matmuls by weight type and output width, attention, norms, element-wise work). The decorator only adds
/// a clock read per call, so its totals match the plain run's prefill time to within a percent.
/// </summary>
internal static class PrefillProfile
{
    public static void Run(Dictionary<string, string> options)
    {
        var types = options.GetValueOrDefault("types", "Q8_0,Q4_K_M").Split(',');
        var threads = int.Parse(options.GetValueOrDefault("threads", "1"), CultureInfo.InvariantCulture);
        var promptTokens = int.Parse(options.GetValueOrDefault("prompt", "128"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(options.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture);
        var directory = options.GetValueOrDefault("dir", Path.Combine(Path.GetTempPath(), "fathom-bench"));
        Console.WriteLine($"Fathom kernel tier: {KernelTiers.Name(KernelTiers.Current)}; threads {threads}; prompt {promptTokens}; best of {rounds}");
        foreach (var type in types)
        {
            var path = Path.Combine(directory, $"synthetic-1b-{type}.gguf");
            if (!File.Exists(path))
            {
                Console.WriteLine($"{path} is missing: run the default benchmark with --types {type} once to write it");
                continue;
            }

            using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = threads, KvBlockCount = (promptTokens / 16) + 2 });
            var field = typeof(LlamaModel).GetField("_backend", BindingFlags.Instance | BindingFlags.NonPublic)
                ?? throw new InvalidOperationException("LlamaModel has no _backend field");
            var timed = new TimedBackend((IComputeBackend)field.GetValue(model)!);
            field.SetValue(model, timed);
            var prompt = Enumerable.Range(0, promptTokens).Select(i => 259 + (i * 7919 % (model.HyperParameters.VocabularySize - 259))).ToArray();
            var table = Enumerable.Range(0, model.KvBlockCount).ToArray();
            var logits = new float[model.HyperParameters.VocabularySize];
            model.Forward(ForwardBatch.ForSequence(prompt, 0, table), logits); // warm: JIT and page-in
            var best = new Dictionary<string, (double Ms, int Calls)>();
            var bestTotal = double.MaxValue;
            for (var round = 0; round < rounds; round++)
            {
                timed.Reset();
                var clock = Stopwatch.StartNew();
                model.Forward(ForwardBatch.ForSequence(prompt, 0, table), logits);
                var total = clock.Elapsed.TotalMilliseconds;
                if (total < bestTotal)
                {
                    (bestTotal, best) = (total, timed.Snapshot());
                }
            }

            Console.WriteLine($"{type}: prefill {bestTotal:F1} ms ({promptTokens / bestTotal * 1000:F1} tok/s), load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            foreach (var (name, (ms, calls)) in best.OrderByDescending(p => p.Value.Ms))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-40} {ms,9:F1} ms {100 * ms / bestTotal,5:F1} % ({calls} calls)"));
            }

            var timedTotal = best.Values.Sum(v => v.Ms);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"(outside the backend)",-40} {bestTotal - timedTotal,9:F1} ms {100 * (bestTotal - timedTotal) / bestTotal,5:F1} %"));
        }
    }

    /// <summary>Times every call of the backend it wraps, by operation (matmuls by weight type and shape).</summary>
    private sealed class TimedBackend(IComputeBackend inner) : IComputeBackend
    {
        private readonly Dictionary<string, (double Ms, int Calls)> _times = [];

        public string Name => inner.Name;

        public void Reset() => _times.Clear();

        public Dictionary<string, (double Ms, int Calls)> Snapshot() => new(_times);

        public void Embed(WeightMatrix table, ReadOnlySpan<int> tokens, float[] output)
        {
            var start = Stopwatch.GetTimestamp();
            inner.Embed(table, tokens, output);
            Add("embed", start);
        }

        public void RmsNorm(float[] input, int rows, int dim, float[] weight, float eps, float[] output)
        {
            var start = Stopwatch.GetTimestamp();
            inner.RmsNorm(input, rows, dim, weight, eps, output);
            Add("rms norm", start);
        }

        public void MatMul(float[] input, int rows, params ReadOnlySpan<MatMulTarget> targets)
        {
            var start = Stopwatch.GetTimestamp();
            inner.MatMul(input, rows, targets);
            var shapes = string.Join("+", targets.ToArray().Select(t => $"{t.Weight.Type} {t.Weight.Rows}x{t.Weight.Columns}"));
            Add($"matmul {shapes}", start);
        }

        public void AddBias(float[] x, int rows, float[] bias)
        {
            var start = Stopwatch.GetTimestamp();
            inner.AddBias(x, rows, bias);
            Add("bias", start);
        }

        public void Rope(float[] x, int rows, int heads, int headDimension, ReadOnlySpan<int> positions, RopeParameters rope)
        {
            var start = Stopwatch.GetTimestamp();
            inner.Rope(x, rows, heads, headDimension, positions, rope);
            Add("rope", start);
        }

        public void StoreKv(float[] keys, float[] values, ForwardBatch batch, PagedKvStorage storage, int layer)
        {
            var start = Stopwatch.GetTimestamp();
            inner.StoreKv(keys, values, batch, storage, layer);
            Add("store kv", start);
        }

        public void Attention(float[] queries, ForwardBatch batch, PagedKvStorage storage, int layer, int heads, float[] output)
        {
            var start = Stopwatch.GetTimestamp();
            inner.Attention(queries, batch, storage, layer, heads, output);
            Add("attention", start);
        }

        public void SwiGlu(float[] gate, float[] up, int count, float[] output)
        {
            var start = Stopwatch.GetTimestamp();
            inner.SwiGlu(gate, up, count, output);
            Add("swiglu", start);
        }

        public void Add(float[] x, float[] y, int count)
        {
            var start = Stopwatch.GetTimestamp();
            inner.Add(x, y, count);
            Add("add", start);
        }

        public int ArgMax(ReadOnlySpan<float> values) => inner.ArgMax(values);

        public void Dispose() => inner.Dispose();

        private void Add(string name, long start)
        {
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var (total, calls) = _times.GetValueOrDefault(name);
            _times[name] = (total + ms, calls + 1);
        }
    }
}
