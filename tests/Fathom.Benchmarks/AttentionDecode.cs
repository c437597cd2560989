using System.Diagnostics;
using System.Globalization;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Benchmarks;

/// <summary>
/// One decode token's paged attention over an f16 cache, every layer in turn, on the CPU backend: microseconds per
/// layer and GB/s of K/V bytes read. The layers' caches together exceed the L3 (as they do behind a decode step's
/// weight stream), so each call reads its keys and values from memory. Llama-3.2-1B's attention shape by default.
/// <c>dotnet run -c Release --project tests/Fathom.Benchmarks -- attention-decode [context] [threads] [rounds] [layers]</c>.
/// </summary>
internal static class AttentionDecode
{
    private const int Heads = 32;
    private const int KvHeads = 8;
    private const int HeadDim = 64;

    public static void Run(string[] args)
    {
        var context = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
        var threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 9;
        var layers = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 48;
        var blocks = (context + PagedKvStorage.DefaultBlockSize - 1) / PagedKvStorage.DefaultBlockSize;
        var storage = new PagedKvStorage(layers, blocks, PagedKvStorage.DefaultBlockSize, KvHeads, HeadDim, KvCacheDataType.F16);
        var rng = new Random(1);
        var keys = new float[KvHeads * HeadDim]; // (n_head_kv, head_dim)
        var values = new float[KvHeads * HeadDim]; // (n_head_kv, head_dim)
        var table = Enumerable.Range(0, blocks).ToArray();
        for (var layer = 0; layer < layers; layer++)
        {
            for (var p = 0; p < context; p++)
            {
                Fill(keys, rng);
                Fill(values, rng);
                storage.Store(layer, storage.Offset(table, p), keys, values);
            }
        }

        var queries = new float[Heads * HeadDim]; // (1, n_head, head_dim)
        Fill(queries, rng);
        var output = new float[Heads * HeadDim]; // (1, n_head, head_dim)
        var batch = new ForwardBatch([0], [context - 1], [0], [table], [0]);
        using var backend = new CpuBackend(threads);
        var bytes = (double)layers * context * KvHeads * HeadDim * 2 * sizeof(ushort);
        var times = new List<double>();
        for (var round = 0; round <= rounds; round++)
        {
            var clock = Stopwatch.StartNew();
            for (var layer = 0; layer < layers; layer++)
            {
                backend.Attention(queries, batch, storage, layer, Heads, output);
            }

            if (round > 0)
            {
                times.Add(clock.Elapsed.TotalSeconds); // round 0 warms the JIT and the workers
            }
        }

        times.Sort();
        var median = times[times.Count / 2];
        Console.WriteLine($"context {context}, {threads} thread(s), {layers} layers: {median / layers * 1e6:F1} µs per layer (median of {rounds}; fastest {times[0] / layers * 1e6:F1}, slowest {times[^1] / layers * 1e6:F1}), {bytes / median / 1e9:F1} GB/s of K/V, checksum {output.Sum():G6}");
    }

    private static void Fill(float[] x, Random rng)
    {
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)(rng.NextDouble() - 0.5) * 4;
        }
    }
}
