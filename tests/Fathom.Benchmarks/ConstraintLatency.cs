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
        Console.WriteLine("| workload | tokens | compile p50 | cold p50 | cold p99 | cold max | warm p50 | warm p99 | warm max |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var mask = new ulong[vocabulary.Words];
        foreach (var (name, schema, answer) in ConstraintWorkloads.All)
        {
            int[] tokens = ConstraintWorkloads.Tokens(schema, answer);
            var compile = new List<double>();
            var cold = new List<double>();
            var warm = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                long start = Stopwatch.GetTimestamp();
                var grammar = ConstraintWorkloads.Compile(schema);
                compile.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                Time(grammar, tokens, mask, cold);
                Time(grammar, tokens, mask, warm);
            }

            Console.WriteLine($"| {name} | {tokens.Length} | {P(compile, 50) / 1000:F2} ms | {P(cold, 50):F1} µs | {P(cold, 99):F0} µs | {cold.Max():F0} µs | {P(warm, 50):F2} µs | {P(warm, 99):F1} µs | {warm.Max():F0} µs |");
        }
    }

    public static void Probe()
    {
        var vocabulary = ConstraintWorkloads.Vocabulary;
        var grammar = ConstraintWorkloads.Compile("""{"type":"string"}""");
        var matcher = new GrammarMatcher(grammar, vocabulary);
        matcher.AcceptBytes("\"ab"u8);
        var tables = matcher.Tables;
        for (int i = 0; i < 3; i++)
        {
            long start = Stopwatch.GetTimestamp();
            var mask = tables.ComputeMaskForProbe(matcher.Configuration);
            Console.WriteLine($"walk {i}: {Stopwatch.GetElapsedTime(start).TotalMicroseconds:F0} µs, {mask.Sum(w => System.Numerics.BitOperations.PopCount(w))} allowed, configs {tables.ConfigCount} loop {tables.IsStringLoopForProbe(matcher.Configuration)} safe {vocabulary.Trie.SafeSubtree.Count(x => x)} safeTokens {vocabulary.Trie.SafeStringTokens.Sum(w => System.Numerics.BitOperations.PopCount(w))}");
        }
    }

    private static void Time(Grammar grammar, int[] tokens, ulong[] mask, List<double> samples)
    {
        var matcher = new GrammarMatcher(grammar, ConstraintWorkloads.Vocabulary);
        foreach (int token in tokens)
        {
            long start = Stopwatch.GetTimestamp();
            matcher.FillNextTokenMask(mask);
            bool ok = matcher.Accept(token);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            if (!ok)
            {
                throw new InvalidOperationException("token refused");
            }
        }
    }

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
