using BenchmarkDotNet.Running;

if (args is ["constraints-probe"])
{
    Fathom.Benchmarks.ConstraintLatency.Probe();
    return;
}

if (args is ["constraints-latency", ..])
{
    Fathom.Benchmarks.ConstraintLatency.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Fathom.Benchmarks.MatVecBenchmarks).Assembly).Run(args);
