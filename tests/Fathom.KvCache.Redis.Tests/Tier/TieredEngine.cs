using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.KvCache.Redis.Tier;

namespace Fathom.KvCache.Redis.Tests.Tier;

/// <summary>One replica: a real model under the scheduler, with the Redis tier when a store is given.</summary>
internal sealed class TieredEngine : IDisposable
{
    private readonly CountingRunner _runner;
    private int _requests;

    private TieredEngine(LlamaModel model, RedisKvBlockStore? store, bool reportPrefill)
    {
        Model = model;
        Tier = store is null ? null : RedisKvBlockTier.For(store, model);
        var pool = new KvBlockPool(model.KvBlockCount, model.KvBlockSize, Tier);
        KvCache = new KvCacheManager(pool, model.Fingerprint, Tier);
        IModelRunner runner = new LlamaModelRunner(model, Tier);
        _runner = new CountingRunner(reportPrefill && store is not null ? new KvPrefillRateReporter(runner, store) : runner);
        Core = new EngineCore(new Scheduler(new SchedulerConfig { MaxNumBatchedTokens = 256 }, KvCache), _runner);
    }

    public LlamaModel Model { get; }

    public RedisKvBlockTier? Tier { get; }

    public KvCacheManager KvCache { get; }

    public EngineCore Core { get; }

    public static TieredEngine Start(string modelPath, RedisKvBlockStore? store, bool reportPrefill = false, KvCacheDataType kvType = KvCacheDataType.Auto) =>
        new(LlamaModel.Load(modelPath, new ModelLoadOptions { KvBlockCount = 64, Threads = 1, KvCacheDataType = kvType }), store, reportPrefill);

    /// <summary>Prefetches (when tiered), queues the prompt and runs the engine until it is done; greedy.</summary>
    public async Task<Completion> CompleteAsync(int[] prompt, int maxTokens, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var prefetch = Tier is null ? null : await Tier.PrefetchAsync(prompt, cancellationToken);
        var prefetchTime = clock.Elapsed;
        long computedBefore = _runner.ComputedTokens;
        Core.AddRequest(new EngineRequest(
            $"req-{_requests++}", prompt, new SamplingParams { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true }));
        var tokens = new List<int>();
        int cached = -1;
        for (int step = 0; step < 10_000 && Core.HasUnfinishedRequests; step++)
        {
            foreach (var update in Core.Step())
            {
                tokens.Add(update.Token.TokenId);
                cached = update.Sequence.CachedPromptTokens ?? -1;
            }
        }

        Assert.False(Core.HasUnfinishedRequests);
        return new Completion(tokens, cached, _runner.ComputedTokens - computedBefore, prefetch, prefetchTime);
    }

    public void Dispose() => Model.Dispose();

    /// <summary>A finished request: greedy tokens, the sequence's cached prompt tokens, tokens the model computed.</summary>
    public sealed record Completion(
        IReadOnlyList<int> Tokens, int CachedPromptTokens, long ComputedTokens, KvPrefetchResult? Prefetch, TimeSpan PrefetchTime);

    private sealed class CountingRunner(IModelRunner inner) : IModelRunner
    {
        public long ComputedTokens { get; private set; }

        public int VocabSize => inner.VocabSize;

        public void Execute(SchedulerOutput batch, Span<float> logits)
        {
            inner.Execute(batch, logits);
            ComputedTokens += batch.NumScheduledTokens;
        }
    }
}
