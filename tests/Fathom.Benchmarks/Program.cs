using BenchmarkDotNet.Running;

if (args is ["constraints-trace", var workload, ..])
{
    Fathom.Benchmarks.ConstraintLatency.Trace(workload, args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 500);
    return;
}

if (args is ["constraints-compile", var schemaText, ..])
{
    Fathom.Benchmarks.ConstraintLatency.Compile(schemaText, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20);
    return;
}

if (args is ["int4-ab", ..])
{
    Fathom.Benchmarks.Int4ZeroPointAb.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
    return;
}

if (args is ["constraints-latency", ..])
{
    Fathom.Benchmarks.ConstraintLatency.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20);
    return;
}

if (args is ["attention-decode", ..])
{
    Fathom.Benchmarks.AttentionDecode.Run(args);
    return;
}

if (args is ["kquant-ab", ..])
{
    Fathom.Benchmarks.KQuantDecodeAb.Run(args);
    return;
}

if (args is ["kquant-prefill", ..])
{
    Fathom.Benchmarks.KQuantPrefillRate.Run(args);
    return;
}

if (args is ["widened-ab", ..])
{
    Fathom.Benchmarks.WidenedDecodeAb.Run(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Fathom.Benchmarks.MatVecBenchmarks).Assembly).Run(args);
