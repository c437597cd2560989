using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Fathom.Benchmarks.MatVecBenchmarks).Assembly).Run(args);
