// Fathom vs llama.cpp, end to end: writes a synthetic model per type (once, cached in --dir), then for each
// thread count measures prefill and decode tokens/s for both engines alternately (best of --rounds) and prints
// the ratios. Usage:
//   dotnet run -c Release --project tests/Fathom.Benchmarks.EndToEnd -- [--shape 1b|small|8b] [--types Q8_0,Q4_0,Q4_K_M]
//       [--threads 1,2] [--prompt 128] [--gen 64] [--rounds 3] [--dir /tmp/fathom-bench] [--llama-avx auto|avx2|avx512] [--rss]
// --rss runs each engine in a child process of its own, alternately, and adds load time and peak RSS (RssBench); use
// it for the 8b shape (Llama-3.1-8B, ~4.9 GB as Q4_K_M), where two engines in one process would hold two models.
// --llama-avx picks llama.cpp's native build (LLamaSharp ships noavx/avx/avx2/avx512); auto matches Fathom's kernel
// tier, so running under DOTNET_EnableAVX512=0 compares the AVX2 tiers of both like for like.
// `llama-batched ...` instead measures llama.cpp's batched generation (see LlamaCppBatched; scripts/bench-serve.sh).
// `gateway-model|gateway-workload|gateway-overhead ...`: the API gateway benchmark (GatewayBench; scripts/bench-gateway.sh).
// `hostile --url U ...`: the hostile-traffic suite against a server (HostileMode; scripts/hostile-traffic.sh).
// `soak --api U --minutes M ...`: the soak load driver (LoadSoak; scripts/load-soak.sh); `synthetic-model --out P`
// writes the 1B-shape Q8_0 synthetic model it can serve. `constrained [--gen N] [--rounds R] [--threads T]`: decode
// tokens/s free versus under a JSON Schema constraint on the 1B-shape Q8_0 model (ConstrainedDecode).
// `hf-dir [--shape 1b|small] ...`: load, prefill and decode of the same weights as GGUF F16, as a sharded and as a one-file BF16
// Hugging Face model directory, and the directory quantized on load (HfDirectoryBench).
// `prefill-profile [--types Q8_0,Q4_K_M] [--threads 1] [--prompt 128]`: where a prefill's time goes (PrefillProfile).
// `checkpoints [--layers 4] [--threads 1] ...`: FP8/AWQ/GPTQ model directories vs GGUF Q8_0/Q4_0 of the same weights (CheckpointBench).
using System.Diagnostics;
using System.Globalization;
using Fathom.Engine.Diagnostics;
using Fathom.Gguf;
using Fathom.Engine.Model;
using Fathom.Engine.Quantization;
using Fathom.Engine.Tests.Model;
using LLama;
using LLama.Common;
using LLama.Native;

switch (args)
{
    case ["gateway-model", ..]:
        GatewayBench.WriteModel(ParseArgs(args[1..]));
        return;
    case ["gateway-workload", ..]:
        await GatewayBench.RunWorkloadAsync(ParseArgs(args[1..]));
        return;
    case ["gateway-overhead", ..]:
        await GatewayBench.RunOverheadAsync(ParseArgs(args[1..]));
        return;
    case ["hostile", ..]:
        Environment.ExitCode = await HostileMode.RunAsync(ParseArgs(args[1..]));
        return;
    case ["soak", ..]:
        Environment.ExitCode = await LoadSoak.RunAsync(ParseArgs(args[1..]));
        return;
    case ["constrained", ..]:
        await ConstrainedDecode.RunAsync(ParseArgs(args[1..]));
        return;
    case ["hf-dir", ..]:
        HfDirectoryBench.Run(ParseArgs(args[1..]));
        return;
    case ["checkpoints", ..]:
        CheckpointBench.Run(ParseArgs(args[1..]));
        return;
    case ["rss-child", ..]:
        RssBench.Child(ParseArgs(args[1..]));
        return;
    case ["prefill-profile", ..]:
        PrefillProfile.Run(ParseArgs(args[1..]));
        return;
    case ["synthetic-model", ..]:
        WriteSyntheticModel(ParseArgs(args[1..])["out"]);
        return;
}

if (args is ["llama-batched", ..])
{
    await LlamaCppBatched.RunAsync(ParseArgs(args[1..]));
    return;
}

var options = ParseArgs(args);
var shape = SyntheticLlamaShape.FromName(options.GetValueOrDefault("shape", "1b"));
var measureRss = options.ContainsKey("rss");
// A GGUF type, or Q4_K_M: Q4_K with llama.cpp's choice of Q6_K tensors (SyntheticLlama.Q4KMedium).
var types = options.GetValueOrDefault("types", "Q8_0,Q4_0").Split(',');
var threadCounts = options.GetValueOrDefault("threads", "1,2").Split(',').Select(int.Parse).ToArray();
var promptTokens = int.Parse(options.GetValueOrDefault("prompt", "128"), CultureInfo.InvariantCulture);
var genTokens = int.Parse(options.GetValueOrDefault("gen", "64"), CultureInfo.InvariantCulture);
var rounds = int.Parse(options.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture);
var directory = options.GetValueOrDefault("dir", Path.Combine(Path.GetTempPath(), "fathom-bench"));
Directory.CreateDirectory(directory);
var llamaAvxOption = options.GetValueOrDefault("llama-avx", "auto");
var llamaAvx = LlamaCppBuild.Parse(llamaAvxOption);
LlamaCppBuild.Select(llamaAvx); // before anything loads the native library
NativeLogConfig.llama_log_set((level, message) => { });
Console.WriteLine($"cpu: {CpuModel.Name}; Fathom kernel tier: {KernelTiers.Name(KernelTiers.Current)}; llama.cpp build asked for: {llamaAvx}");

// The same probe `fathom bench --calibration-out` records, so the two report comparable bandwidth fractions.
var bandwidths = ReadBandwidthProbe.Measure(threadCounts).ToDictionary(r => r.Threads, r => r.BytesPerSecond);
foreach (var (t, b) in bandwidths)
{
    Console.WriteLine($"read bandwidth ({t} thread(s), {ReadBandwidthProbe.BytesPerThread(ReadBandwidthProbe.DefaultBytes, t) >> 20} MiB per thread, best of 5 warm passes, plain or prefetched): {b / 1e9:F1} GB/s");
}

Console.WriteLine($"process RSS before loading a model: {ProcessMemory.MiB("VmRSS")} MiB");

var prompt = RssBench.Prompt(promptTokens, shape.Vocabulary);
var rows = new List<string>();
Console.WriteLine($"shape: embd {shape.EmbeddingLength}, layers {shape.Layers}, heads {shape.Heads}/{shape.KvHeads}, ffn {shape.FeedForwardLength}, vocab {shape.Vocabulary}; prompt {promptTokens}, gen {genTokens}, best of {rounds}");
foreach (var type in types)
{
    var path = Path.Combine(directory, $"synthetic-{shape.Name}-{type}.gguf");
    if (!File.Exists(path))
    {
        var clock = Stopwatch.StartNew();
        var pooled = shape == SyntheticLlamaShape.Llama8B; // the smaller shapes keep their established (row-by-row) files
        if (type == "Q4_K_M")
        {
            SyntheticLlama.Write(path + ".tmp", shape, GgmlType.Q4_K, typeOf: SyntheticLlama.Q4KMedium(shape.Layers), pooled: pooled);
        }
        else
        {
            SyntheticLlama.Write(path + ".tmp", shape, Enum.Parse<GgmlType>(type), pooled: pooled);
        }

        File.Move(path + ".tmp", path, overwrite: true);
        Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1e6:F0} MB) in {clock.Elapsed.TotalSeconds:F0} s");
    }

    var weightBytesPerToken = WeightBytesPerToken(path);
    if (measureRss)
    {
        foreach (var threads in threadCounts)
        {
            rows.Add(RssBench.Compare(path, type, threads, promptTokens, genTokens, rounds, shape.Vocabulary, llamaAvxOption, bandwidths[threads], weightBytesPerToken));
            Console.WriteLine(rows[^1]);
        }

        continue;
    }

    foreach (var threads in threadCounts)
    {
        using var fathom = LlamaModel.Load(path, new ModelLoadOptions { Threads = threads, KvBlockCount = ((promptTokens + genTokens) / 16) + 2 });
        FathomTiming.Measure(fathom, prompt, Math.Min(genTokens, 4)); // warm: pages the weights in, before llama.cpp maps its copy
        Console.WriteLine($"{type}, {threads} thread(s): Fathom RSS after a run {ProcessMemory.MiB("VmRSS")} MiB = anonymous {ProcessMemory.MiB("RssAnon")} + file {ProcessMemory.MiB("RssFile")} MiB (file {new FileInfo(path).Length >> 20} MiB, KV {fathom.KvCacheBytes >> 20} MiB)");
        using var llama = new LlamaCppRunner(path, threads, promptTokens + genTokens + 16);
        double fp = 0, fd = 0, lp = 0, ld = 0;
        for (var round = 0; round < rounds; round++)
        {
            var (p1, d1) = FathomTiming.Measure(fathom, prompt, genTokens);
            var (p2, d2) = llama.Measure(prompt, genTokens);
            (fp, fd, lp, ld) = (Math.Max(fp, p1), Math.Max(fd, d1), Math.Max(lp, p2), Math.Max(ld, d2));
        }

        var line = string.Create(CultureInfo.InvariantCulture,
            $"| {CpuModel.Name} | {KernelTiers.Name(KernelTiers.Current)} | {LlamaCppBuild.Loaded()} | {type} | {threads} | {fp:F1} | {lp:F1} | {fp / lp:F2}× | {fd:F2} | {ld:F2} | {fd / ld:F2}× | {weightBytesPerToken * fd / bandwidths[threads]:P0} |");
        Console.WriteLine(line);
        rows.Add(line);
    }
}

Console.WriteLine();
Console.WriteLine($"cpu: {CpuModel.Name}; Fathom kernel tier: {KernelTiers.Name(KernelTiers.Current)}; llama.cpp build: {(measureRss ? "see the rows" : LlamaCppBuild.Loaded())}; load average at the end: {ProcessMemory.LoadAverage()}");
if (measureRss)
{
    Console.WriteLine(RssBench.Header);
    rows.ForEach(Console.WriteLine);
    return;
}

Console.WriteLine("| CPU | Fathom tier | llama.cpp build | type | threads | Fathom prefill tok/s | llama.cpp prefill tok/s | ratio | Fathom decode tok/s | llama.cpp decode tok/s | ratio | Fathom decode bandwidth use |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
rows.ForEach(Console.WriteLine);

// The 1B-shape Q8_0 model (the same file the default benchmark writes), for the soak run; kept when present.
static void WriteSyntheticModel(string path)
{
    if (!File.Exists(path))
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        SyntheticLlama.Write(path + ".tmp", SyntheticLlamaShape.Llama1B, GgmlType.Q8_0);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    Console.WriteLine($"model {path} ({new FileInfo(path).Length / 1e6:F0} MB)");
}

// Bytes a decode step must read: every tensor but the token embedding (one row of it).
static long WeightBytesPerToken(string path)
{
    using var file = GgufFile.Open(path);
    return file.Tensors.Where(t => t.Name != "token_embd.weight").Sum(t => t.ByteSize);
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        // A flag with no value (the next argument is another option, or there is none), e.g. --rss, reads as "true".
        var flag = i + 1 == args.Length || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i].StartsWith("--", StringComparison.Ordinal));
        result[args[i].TrimStart('-')] = flag ? "true" : args[++i];
    }

    return result;
}

/// <summary>llama.cpp through LLamaSharp with its defaults for CPU inference (F16 KV cache), at a given thread count.</summary>
internal sealed class LlamaCppRunner : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _params;

    public LlamaCppRunner(string path, int threads, int context)
    {
        _params = new ModelParams(path)
        {
            ContextSize = (uint)context,
            BatchSize = (uint)context,
            UBatchSize = (uint)context,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        _weights = LLamaWeights.LoadFromFile(_params);
    }

    public (double Prefill, double Decode) Measure(int[] prompt, int gen)
    {
        using var context = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        var clock = Stopwatch.StartNew();
        var index = batch.AddRange(prompt.Select(t => (LLamaToken)t).ToArray(), 0, LLamaSeqId.Zero, true);
        Check(context.Decode(batch));
        var prefill = prompt.Length / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (var i = 0; i < gen; i++)
        {
            var logits = context.NativeHandle.GetLogitsIth(index);
            var next = 0;
            for (var j = 1; j < logits.Length; j++)
            {
                if (logits[j] > logits[next])
                {
                    next = j;
                }
            }

            batch.Clear();
            index = batch.Add(next, prompt.Length + i, LLamaSeqId.Zero, true);
            Check(context.Decode(batch));
        }

        return (prefill, gen / clock.Elapsed.TotalSeconds);
    }

    public void Dispose() => _weights.Dispose();

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        }
    }
}
