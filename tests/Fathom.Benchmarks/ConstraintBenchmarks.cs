using BenchmarkDotNet.Attributes;
using Fathom.Engine.Constraints;

namespace Fathom.Benchmarks;

/// <summary>
/// Constrained decoding over the Llama-3 vocabulary (128,256 tokens) for five realistic schemas: schema compile time,
/// and one whole answer's masks (FillNextTokenMask + Accept per token) with the grammar's caches cold (a fresh grammar
/// per answer: every mask computed by walking the token trie) and warm (the same schema served before).
/// Per-token percentiles: <c>dotnet run -c Release --project tests/Fathom.Benchmarks -- constraints-latency</c>.
/// Run: <c>dotnet run -c Release --project tests/Fathom.Benchmarks -- --filter *Constraint* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class ConstraintBenchmarks
{
    private ulong[] _mask = [];
    private int[] _tokens = [];
    private Grammar _warm = null!;
    private string _schema = "";

    /// <summary>Which workload of <see cref="ConstraintWorkloads.All"/>.</summary>
    [ParamsSource(nameof(Names))]
    public string Workload { get; set; } = "";

    public static IEnumerable<string> Names => ConstraintWorkloads.All.Select(w => w.Name);

    [GlobalSetup]
    public void Setup()
    {
        var (_, schema, answer) = ConstraintWorkloads.All.Single(w => w.Name == Workload);
        _schema = schema;
        _tokens = ConstraintWorkloads.Tokens(schema, answer);
        _mask = new ulong[ConstraintWorkloads.Vocabulary.Words];
        _warm = ConstraintWorkloads.Compile(schema);
        Walk(_warm);
        Console.WriteLine($"// {Workload}: {_tokens.Length} tokens");
    }

    [Benchmark]
    public Grammar CompileSchema() => ConstraintWorkloads.Compile(_schema);

    [Benchmark]
    public int AnswerMasksCold() => Walk(ConstraintWorkloads.Compile(_schema));

    [Benchmark]
    public int AnswerMasksWarm() => Walk(_warm);

    private int Walk(Grammar grammar)
    {
        var matcher = new GrammarMatcher(grammar, ConstraintWorkloads.Vocabulary);
        int accepted = 0;
        foreach (int token in _tokens)
        {
            matcher.FillNextTokenMask(_mask);
            accepted += matcher.Accept(token) ? 1 : 0;
        }

        return accepted;
    }
}
