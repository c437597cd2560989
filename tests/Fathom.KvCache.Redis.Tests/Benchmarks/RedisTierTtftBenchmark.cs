using System.Diagnostics;
using System.Globalization;
using Fathom.Gguf;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Tests.Model;
using Fathom.KvCache.Redis.Tests.Servers;
using Fathom.KvCache.Redis.Tier;

namespace Fathom.KvCache.Redis.Tests.Benchmarks;

/// <summary>
/// docs/benchmarks.md, "Redis tier": TTFT of a cold replica for a long shared prefix, fetched from Redis vs
/// recomputed, on a synthetic Llama-3.2-1B-shaped model. Minutes of CPU: runs only with FATHOM_BENCH_REDIS=1.
/// Settings: FATHOM_BENCH_MODEL (GGUF path; written once if missing), FATHOM_BENCH_TYPE (F16), FATHOM_BENCH_PREFIX
/// (2000), FATHOM_BENCH_THREADS (2), FATHOM_BENCH_OUT (results file).
/// </summary>
public sealed class RedisTierTtftBenchmark
{
    private const int Suffix = 16;

    [Fact]
    public async Task Ttft_with_the_prefix_from_redis_vs_recompute()
    {
        if (Environment.GetEnvironmentVariable("FATHOM_BENCH_REDIS") != "1")
        {
            Assert.Skip("Benchmark: set FATHOM_BENCH_REDIS=1 to run it (minutes of CPU).");
        }

        var ct = TestContext.Current.CancellationToken;
        var type = Enum.Parse<GgmlType>(Setting("FATHOM_BENCH_TYPE", "F16"));
        string path = Setting("FATHOM_BENCH_MODEL", Path.Combine(Path.GetTempPath(), "fathom-bench", $"synthetic-1b-{type}.gguf"));
        int prefix = int.Parse(Setting("FATHOM_BENCH_PREFIX", "2000"), CultureInfo.InvariantCulture);
        int threads = int.Parse(Setting("FATHOM_BENCH_THREADS", "2"), CultureInfo.InvariantCulture);
        var report = new List<string>();
        void Say(string line)
        {
            report.Add(line);
            TestContext.Current.SendDiagnosticMessage(line);
            Console.WriteLine(line);
        }

        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            SyntheticLlama.Write(path + ".tmp", SyntheticLlamaShape.Llama1B, type);
            File.Move(path + ".tmp", path, overwrite: true);
        }

        await using IKvTestServer server = RedisServerProcess.Executable is null
            ? await GarnetTestServer.StartAsync()
            : await RedisServerProcess.StartAsync();
        var options = new KvCacheOptions { FetchTimeout = TimeSpan.FromSeconds(30), WriteTimeout = TimeSpan.FromSeconds(30), MaxBlocksPerFetch = 1024 };
        int[] prompt = [1, .. Enumerable.Range(1, prefix + Suffix - 1).Select(i => 259 + (i * 7919 % (32000 - 259)))];
        int blocks = prefix / 16;
        Say($"model {Path.GetFileName(path)} ({type}), prompt {prompt.Length} tokens ({blocks} full blocks shared), threads {threads}, server {server.GetType().Name}");

        await using var storeA = await RedisKvBlockStore.ConnectAsync(server.ConnectionString, options);
        List<int> firstA;
        TimeSpan recompute;
        using (var a = new Replica(path, threads, prompt.Length, storeA))
        {
            (firstA, recompute, _) = await a.FirstTokensAsync(prompt, ct);
        }

        var flush = Stopwatch.StartNew();
        await storeA.FlushAsync(ct);
        var written = storeA.Statistics;
        Say($"A (cold, empty Redis): TTFT {recompute.TotalSeconds:F2} s = {prompt.Length / recompute.TotalSeconds:F1} prompt tok/s; write-behind drained {flush.Elapsed.TotalSeconds:F2} s after, {written.BlocksWritten} blocks, {written.BytesWritten / 1e6:F1} MB");

        await using var storeB = await RedisKvBlockStore.ConnectAsync(server.ConnectionString, options);
        using var b = new Replica(path, threads, prompt.Length, storeB);
        var (firstB, fetched, prefetch) = await b.FirstTokensAsync(prompt, ct);
        var read = storeB.Statistics;
        Assert.Equal(firstA, firstB);
        Assert.Equal(blocks, prefetch!.FetchedBlocks);

        double bytesPerToken = (double)read.BytesRead / (blocks * 16);
        double fetchBps = read.BytesRead / prefetch.Elapsed.TotalSeconds;
        double ratio = fetched / recompute;
        Say($"B (cold, prefix in Redis): TTFT {fetched.TotalSeconds:F2} s (fetch {prefetch.Elapsed.TotalMilliseconds:F0} ms of it); ratio {ratio:F3}");
        Say($"fetched {read.BytesRead / 1e6:F1} MB = {bytesPerToken:F0} B/token; {fetchBps / 1e9:F2} GB/s over the whole fetch (probe + transfer + validation)");

        // Fixed cost of a fetch: a one-block run (already local on B, so ask the store directly).
        var one = await storeB.FetchLongestRunAsync(new KvModelFingerprint(b.Fingerprint.Value), b.Shape, [b.Hashes(prompt)[0]], ct);
        double overhead = Math.Max(0, one.Elapsed.TotalSeconds - (bytesPerToken * 16 / fetchBps));
        var rates = new KvTransferRates(fetchBps, overhead, prompt.Length / recompute.TotalSeconds);
        int? breakEven = KvFetchCostModel.BreakEvenBlocks((long)(bytesPerToken * 16), 16, rates);
        Say($"fetch overhead ≈ {overhead * 1e3:F2} ms; break-even: {(breakEven is { } n ? $"{n} block(s) = {n * 16} tokens" : "never")}");

        if (Environment.GetEnvironmentVariable("FATHOM_BENCH_OUT") is { Length: > 0 } output)
        {
            await File.WriteAllLinesAsync(output, report, ct);
        }

        Assert.True(ratio <= 0.25, $"TTFT with Redis is {ratio:F3}× recompute");
    }

    [Fact]
    public async Task Fetch_throughput_of_1_MiB_blocks()
    {
        if (Environment.GetEnvironmentVariable("FATHOM_BENCH_REDIS") != "1")
        {
            Assert.Skip("Benchmark: set FATHOM_BENCH_REDIS=1 to run it.");
        }

        var ct = TestContext.Current.CancellationToken;
        const int Blocks = 125;
        const int BlockBytes = 1 << 20; // one 16-token block of the 1B shape, f32 KV
        var lines = new List<string>();
        foreach (bool garnet in new[] { false, true })
        {
            if (!garnet && RedisServerProcess.Executable is null)
            {
                continue;
            }

            await using IKvTestServer server = garnet ? await GarnetTestServer.StartAsync() : await RedisServerProcess.StartAsync();
            await using var store = await RedisKvBlockStore.ConnectAsync(
                server.ConnectionString,
                new KvCacheOptions { FetchTimeout = TimeSpan.FromSeconds(30), WriteTimeout = TimeSpan.FromSeconds(30), MaxBlocksPerFetch = 1024 });
            var fingerprint = new KvModelFingerprint(42);
            var hashes = Enumerable.Range(1, Blocks).Select(i => new BlockHash(0, (UInt128)i)).ToArray();
            var shape = new KvBlockShape(16, 16, KvBlockDType.F32, BlockBytes);
            foreach (var hash in hashes)
            {
                Assert.True(store.TryEnqueue(fingerprint, new KvBlock(hash, 16, 16, KvBlockDType.F32, new byte[BlockBytes])));
            }

            await store.FlushAsync(ct);
            Assert.Equal(Blocks, store.Statistics.BlocksWritten);
            double best = 0;
            double bestOne = double.MaxValue;
            for (int round = 0; round < 5; round++)
            {
                var result = await store.FetchLongestRunAsync(fingerprint, shape, hashes, ct);
                Assert.Equal(Blocks, result.Blocks.Count);
                best = Math.Max(best, (double)Blocks * BlockBytes / result.Elapsed.TotalSeconds);
                bestOne = Math.Min(bestOne, (await store.FetchLongestRunAsync(fingerprint, shape, hashes[..1], ct)).Elapsed.TotalSeconds);
            }

            string line = $"{(garnet ? "Garnet (in-process)" : "redis-server")}: {Blocks} × 1 MiB in one fetch: best {best / 1e9:F2} GB/s; one-block fetch best {bestOne * 1e3:F2} ms";
            lines.Add(line);
            Console.WriteLine(line);
            TestContext.Current.SendDiagnosticMessage(line);
        }

        if (Environment.GetEnvironmentVariable("FATHOM_BENCH_OUT") is { Length: > 0 } output)
        {
            await File.WriteAllLinesAsync(output, lines, ct);
        }
    }

    private static string Setting(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;

    /// <summary>A cold replica: its own model instance, empty local cache, the tier over <paramref name="store"/>.</summary>
    private sealed class Replica(string path, int threads, int promptLength, RedisKvBlockStore store) : IDisposable
    {
        private readonly LlamaModel _model = LlamaModel.Load(path, new ModelLoadOptions { Threads = threads, KvBlockCount = (promptLength / 16) + 8 });

        public ModelFingerprint Fingerprint => _model.Fingerprint;

        public KvBlockShape Shape => RedisKvBlockTier.For(store, _model).BlockShape;

        public List<BlockHash> Hashes(int[] prompt)
        {
            var hashes = new List<BlockHash>();
            BlockHasher.ExtendChain(hashes, prompt, _model.KvBlockSize, 1, _model.Fingerprint);
            return hashes;
        }

        /// <summary>Prefetch, queue, step until the first token; then 3 more greedy tokens (for the equality check).</summary>
        public async Task<(List<int> Tokens, TimeSpan Ttft, KvPrefetchResult? Prefetch)> FirstTokensAsync(int[] prompt, CancellationToken ct)
        {
            var tier = RedisKvBlockTier.For(store, _model);
            var kv = new KvCacheManager(new KvBlockPool(_model.KvBlockCount, _model.KvBlockSize, tier), _model.Fingerprint, tier);
            var core = new EngineCore(
                new Scheduler(new SchedulerConfig { MaxNumBatchedTokens = 4096 }, kv), new LlamaModelRunner(_model, tier));
            var clock = Stopwatch.StartNew();
            var prefetch = await tier.PrefetchAsync(prompt, ct);
            core.AddRequest(new EngineRequest("bench", prompt, new SamplingParams { Temperature = 0, MaxTokens = 4, IgnoreEos = true }));
            var tokens = new List<int>();
            TimeSpan ttft = default;
            while (core.HasUnfinishedRequests)
            {
                foreach (var update in core.Step())
                {
                    if (tokens.Count == 0)
                    {
                        ttft = clock.Elapsed;
                    }

                    tokens.Add(update.Token.TokenId);
                }
            }

            return (tokens, ttft, prefetch);
        }

        public void Dispose() => _model.Dispose();
    }
}
