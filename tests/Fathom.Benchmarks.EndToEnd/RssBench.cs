using System.Diagnostics;
using System.Globalization;
using Fathom.Engine.Diagnostics;
using Fathom.Engine.Model;
using Fathom.Engine.Quantization;
using LLama.Native;

/// <summary>
/// <c>--rss</c>: each engine loads, prefills and decodes in a child process of its own (this program re-invoked as
/// <c>rss-child</c>), Fathom and llama.cpp alternately and never two at once, so each child's peak resident memory
/// (VmHWM) is that engine's alone. The child reports load seconds, prefill and decode tokens/s and its memory counters
/// (peak, and resident split into anonymous memory and mapped file pages) on one <c>rss-result</c> line.
/// </summary>
internal static class RssBench
{
    private const string ResultTag = "rss-result";

    /// <summary>One child's measurements.</summary>
    public sealed record Result(double LoadSeconds, double Prefill, double Decode, long PeakMiB, long ResidentMiB, long AnonymousMiB, long FileMiB, string Build);

    /// <summary>
    /// Runs <paramref name="rounds"/> rounds of (Fathom child, llama.cpp child) on <paramref name="path"/> and returns the
    /// table row: best tokens/s and load time over the rounds, the highest peak RSS.
    /// </summary>
    public static string Compare(string path, string type, int threads, int promptTokens, int genTokens, int rounds, int vocabulary,
        string llamaAvx, double bandwidth, long weightBytesPerToken)
    {
        var fathom = new List<Result>();
        var llama = new List<Result>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var engine in new[] { "fathom", "llama" })
            {
                var result = RunChild(engine, path, threads, promptTokens, genTokens, vocabulary, llamaAvx);
                (engine == "fathom" ? fathom : llama).Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{type}, {threads} thread(s), round {round + 1}, {engine}: load {result.LoadSeconds:F1} s, prefill {result.Prefill:F1} tok/s, decode {result.Decode:F2} tok/s; peak RSS {result.PeakMiB} MiB, at the end {result.ResidentMiB} MiB = anonymous {result.AnonymousMiB} + file {result.FileMiB} MiB (file {new FileInfo(path).Length >> 20} MiB; load average {ProcessMemory.LoadAverage()})"));
            }
        }

        double Best(List<Result> r, Func<Result, double> f) => r.Max(f);
        var (fp, fd, lp, ld) = (Best(fathom, r => r.Prefill), Best(fathom, r => r.Decode), Best(llama, r => r.Prefill), Best(llama, r => r.Decode));
        return string.Create(CultureInfo.InvariantCulture,
            $"| {CpuModel.Name} | {KernelTiers.Name(KernelTiers.Current)} | {llama[0].Build} | {type} | {threads} | {fathom.Min(r => r.LoadSeconds):F1} | {llama.Min(r => r.LoadSeconds):F1} | {fp:F1} | {lp:F1} | {fp / lp:F2}× | {fd:F2} | {ld:F2} | {fd / ld:F2}× | {weightBytesPerToken * fd / bandwidth:P0} | {fathom.Max(r => r.PeakMiB)} | {llama.Max(r => r.PeakMiB)} |");
    }

    /// <summary>The table's header, matching <see cref="Compare"/>'s rows.</summary>
    public static string Header =>
        "| CPU | Fathom tier | llama.cpp build | type | threads | Fathom load s | llama.cpp load s | Fathom prefill tok/s | llama.cpp prefill tok/s | ratio | Fathom decode tok/s | llama.cpp decode tok/s | ratio | Fathom decode bandwidth use | Fathom peak RSS MiB | llama.cpp peak RSS MiB |\n" +
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// <summary>The child: <c>rss-child --engine fathom|llama --model P --threads T --prompt N --gen N --vocab V --llama-avx A</c>.</summary>
    public static void Child(IReadOnlyDictionary<string, string> options)
    {
        var path = options["model"];
        var threads = int.Parse(options["threads"], CultureInfo.InvariantCulture);
        var promptTokens = int.Parse(options["prompt"], CultureInfo.InvariantCulture);
        var genTokens = int.Parse(options["gen"], CultureInfo.InvariantCulture);
        var vocabulary = int.Parse(options["vocab"], CultureInfo.InvariantCulture);
        var prompt = Prompt(promptTokens, vocabulary);
        var warm = Math.Min(genTokens, 4);
        double load, prefill, decode;
        var build = "-";
        long resident = 0, anonymous = 0, file = 0;
        void Snapshot() => (resident, anonymous, file) = (ProcessMemory.MiB("VmRSS"), ProcessMemory.MiB("RssAnon"), ProcessMemory.MiB("RssFile"));
        var clock = Stopwatch.StartNew();
        switch (options["engine"])
        {
            case "fathom":
                using (var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = threads, KvBlockCount = ((promptTokens + genTokens) / 16) + 2 }))
                {
                    load = clock.Elapsed.TotalSeconds;
                    FathomTiming.Measure(model, prompt, warm);
                    (prefill, decode) = FathomTiming.Measure(model, prompt, genTokens);
                    Snapshot();
                }

                break;
            case "llama":
                LlamaCppBuild.Select(LlamaCppBuild.Parse(options.GetValueOrDefault("llama-avx", "auto")));
                NativeLogConfig.llama_log_set((level, message) => { });
                using (var llama = new LlamaCppRunner(path, threads, promptTokens + genTokens + 16))
                {
                    load = clock.Elapsed.TotalSeconds;
                    llama.Measure(prompt, warm);
                    (prefill, decode) = llama.Measure(prompt, genTokens);
                    Snapshot();
                    build = LlamaCppBuild.Loaded();
                }

                break;
            default:
                throw new ArgumentException($"--engine must be fathom or llama, not '{options["engine"]}'");
        }

        // The split is read while the engine is still loaded (after its run); VmHWM keeps the peak across dispose.
        Console.WriteLine(string.Join('\t', ResultTag, load.ToString("R", CultureInfo.InvariantCulture), prefill.ToString("R", CultureInfo.InvariantCulture),
            decode.ToString("R", CultureInfo.InvariantCulture), ProcessMemory.MiB("VmHWM"), resident, anonymous, file, build));
    }

    /// <summary>The benchmark's prompt: the same made-up token ids in the parent and the children.</summary>
    public static int[] Prompt(int tokens, int vocabulary) => Enumerable.Range(0, tokens).Select(i => 259 + (i * 7919 % (vocabulary - 259))).ToArray();

    private static Result RunChild(string engine, string path, int threads, int promptTokens, int genTokens, int vocabulary, string llamaAvx)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
        {
            start.ArgumentList.Add(typeof(RssBench).Assembly.Location);
        }

        foreach (var argument in new[]
        {
            "rss-child", "--engine", engine, "--model", path, "--threads", $"{threads}", "--prompt", $"{promptTokens}",
            "--gen", $"{genTokens}", "--vocab", $"{vocabulary}", "--llama-avx", llamaAvx,
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the benchmark child process");
        Result? result = null;
        while (child.StandardOutput.ReadLine() is { } line)
        {
            var fields = line.Split('\t');
            if (fields[0] == ResultTag)
            {
                double D(int i) => double.Parse(fields[i], CultureInfo.InvariantCulture);
                long L(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
                result = new Result(D(1), D(2), D(3), L(4), L(5), L(6), L(7), fields[8]);
            }
            else
            {
                Console.WriteLine($"  [{engine}] {line}");
            }
        }

        child.WaitForExit();
        return child.ExitCode == 0 && result is not null
            ? result
            : throw new InvalidOperationException($"the {engine} child exited with {child.ExitCode} without a result");
    }
}
