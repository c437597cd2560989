using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using Fathom.Engine.Constraints;

namespace Fathom.Benchmarks;

/// <summary>
/// Per-token mask latency percentiles (BenchmarkDotNet reports means per invocation, not a per-token distribution):
/// for each workload, each token's FillNextTokenMask + Accept is timed alone, over many fresh grammars (cold: the
/// schema never served before) and over a warmed grammar (warm). Also schema compile time.
/// </summary>
internal static class ConstraintLatency
{
    public static void Run(int rounds)
    {
        var vocabulary = ConstraintWorkloads.Vocabulary;
        Console.WriteLine($"CPU: {CpuName()}; ISA: AVX2={Avx2.IsSupported} AVX-512F={Avx512F.IsSupported}; {Environment.ProcessorCount} logical CPUs; vocabulary {vocabulary.Size} tokens, trie {vocabulary.Trie.NodeCount} nodes");
        Console.WriteLine("| workload | tokens | clock | compile p50 | cold p50 | cold p99 | cold max | warm p50 | warm p99 | warm max |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var mask = new ulong[vocabulary.Words];
        foreach (var (name, schema, answer) in ConstraintWorkloads.All)
        {
            int[] tokens = ConstraintWorkloads.Tokens(schema, answer);
            var compile = new List<double>();
            var cold = new List<double>();
            var warm = new List<double>();
            var coldCpu = new List<double>();
            var warmCpu = new List<double>();
            var compileCpu = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                double compileCpuStart = ThreadCpuMicroseconds();
                long start = Stopwatch.GetTimestamp();
                var grammar = ConstraintWorkloads.Compile(schema);
                compile.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                compileCpu.Add(ThreadCpuMicroseconds() - compileCpuStart);
                Time(grammar, tokens, mask, cold, coldCpu);
                Time(grammar, tokens, mask, warm, warmCpu);
            }

            Console.WriteLine($"| {name} | {tokens.Length} | wall | {P(compile, 50) / 1000:F2} ms | {P(cold, 50):F1} µs | {P(cold, 99):F0} µs | {cold.Max():F0} µs | {P(warm, 50):F2} µs | {P(warm, 99):F1} µs | {warm.Max():F0} µs |");
            Console.WriteLine($"| | | thread CPU | {P(compileCpu, 50) / 1000:F2} ms | {P(coldCpu, 50):F1} µs | {P(coldCpu, 99):F0} µs | {coldCpu.Max():F0} µs | {P(warmCpu, 50):F2} µs | {P(warmCpu, 99):F1} µs | {warmCpu.Max():F0} µs |");
        }
    }

    /// <summary>Prints each cold token slower than the threshold for one workload (thread CPU, every round), to see where cold time goes.</summary>
    public static void Trace(string workload, double thresholdMicroseconds)
    {
        var vocabulary = ConstraintWorkloads.Vocabulary;
        var (_, schema, answer) = ConstraintWorkloads.All.Single(w => w.Name == workload);
        int[] tokens = ConstraintWorkloads.Tokens(schema, answer);
        var mask = new ulong[vocabulary.Words];
        for (int round = 0; round < 20; round++)
        {
            var grammar = ConstraintWorkloads.Compile(schema);
            var matcher = new GrammarMatcher(grammar, vocabulary);
            foreach (int token in tokens)
            {
                int configsBefore = matcher.Tables.ConfigCount;
                double c0 = ThreadCpuMicroseconds();
                matcher.FillNextTokenMask(mask);
                double c2 = ThreadCpuMicroseconds();
                matcher.Accept(token);
                if (c2 - c0 > thresholdMicroseconds)
                {
                    Console.WriteLine($"round {round,2} {ConstraintWorkloads.Tokenizer.GetText(token),-12} mask {c2 - c0,6:F0} µs, {matcher.Tables.ConfigCount - configsBefore} new configurations");
                }
            }
        }
    }

    /// <summary>Prints the thread-CPU compile time percentiles of one schema (JSON text), to see what a keyword costs.</summary>
    public static void Compile(string schema, int rounds)
    {
        var cpu = new List<double>();
        int states = 0;
        for (int round = 0; round < rounds; round++)
        {
            double start = ThreadCpuMicroseconds();
            var grammar = ConstraintWorkloads.Compile(schema);
            cpu.Add(ThreadCpuMicroseconds() - start);
            states = grammar.Compiled.Rules.Sum(r => r.StateCount);
        }

        Console.WriteLine($"compile thread CPU p50 {P(cpu, 50) / 1000:F2} ms, min {cpu.Min() / 1000:F2} ms; {states} automaton states");
    }

    private static void Time(Grammar grammar, int[] tokens, ulong[] mask, List<double> samples, List<double> cpu)
    {
        var matcher = new GrammarMatcher(grammar, ConstraintWorkloads.Vocabulary);
        foreach (int token in tokens)
        {
            double cpuStart = ThreadCpuMicroseconds();
            long start = Stopwatch.GetTimestamp();
            matcher.FillNextTokenMask(mask);
            bool ok = matcher.Accept(token);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            cpu.Add(ThreadCpuMicroseconds() - cpuStart);
            if (!ok)
            {
                throw new InvalidOperationException("token refused");
            }
        }
    }

    // CPU time of this thread only, so time the scheduler gave other processes is not counted (Linux; NaN elsewhere).
    private static double ThreadCpuMicroseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return double.NaN;
        }

        Span<long> time = stackalloc long[2];
        unsafe
        {
            fixed (long* p = time)
            {
                _ = ClockGetTime(3, p); // CLOCK_THREAD_CPUTIME_ID
            }
        }

        return (time[0] * 1e6) + (time[1] / 1e3);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern unsafe int ClockGetTime(int clock, long* timespec);

    private static double P(List<double> samples, int percentile)
    {
        var sorted = samples.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
    }

    private static string CpuName()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
