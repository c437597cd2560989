using Fathom.Engine.KvCache;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Tests.Scheduling;

namespace Fathom.Engine.Tests.KvCache;

/// <summary>Blocks a second tier failed to load never stay in the prefix cache.</summary>
public sealed class FailedLoadTests
{
    private const int BlockSize = 4;

    [Fact]
    public void Blocks_whose_load_failed_leave_the_prefix_cache_and_a_later_request_recomputes_them()
    {
        var tier = new BrokenPromiseTier();
        var pool = new KvBlockPool(32, BlockSize, tier);
        var kv = new KvCacheManager(pool, ModelFingerprint.Of("fake-model"), tier);
        var runner = new LoadingRunner(new FakeModelRunner(32, BlockSize, EngineHarness.Vocab), tier);
        var core = new EngineCore(new Scheduler(new SchedulerConfig(), kv), runner);
        int[] prompt = EngineHarness.Prompt(6, 12);
        var expected = FakeModelRunner.GreedyReference(prompt, 5, EngineHarness.Vocab);

        // The first run computes the prompt's two full blocks; the tier "holds" them once they leave the pool.
        Assert.Equal(expected, Run(core, "first", prompt).Tokens);
        pool.ClearIdleCache();
        tier.Held.UnionWith(tier.Computed);

        var broken = Run(core, "broken", prompt);
        Assert.Equal(2, tier.FailedLoads);
        var fault = Assert.Single(broken.Faults);
        Assert.False(fault.Error.CausedByInput);
        Assert.Equal(0, pool.CachedBlockCount);

        var again = Run(core, "again", prompt);
        Assert.Empty(again.Faults);
        Assert.Equal(expected, again.Tokens);
        Assert.Equal(0, again.CachedPromptTokens);
        Assert.Equal(0, pool.UsedBlockCount);
    }

    private static (List<int> Tokens, List<SequenceFault> Faults, int? CachedPromptTokens) Run(EngineCore core, string id, int[] prompt)
    {
        core.AddRequest(new EngineRequest(id, prompt, new SamplingParams { Temperature = 0, MaxTokens = 5 }));
        var tokens = new List<int>();
        var faults = new List<SequenceFault>();
        int? cached = null;
        for (int step = 0; step < 100 && core.HasUnfinishedRequests; step++)
        {
            foreach (var update in core.Step())
            {
                tokens.Add(update.Token.TokenId);
                cached = update.Sequence.CachedPromptTokens;
            }

            faults.AddRange(core.Faults);
        }

        Assert.False(core.HasUnfinishedRequests);
        return (tokens, faults, cached);
    }

    /// <summary>Offers the blocks it holds, then fails every load (and forgets the block, as a store that lost it would).</summary>
    private sealed class BrokenPromiseTier : IKvBlockTier
    {
        public HashSet<BlockHash> Held { get; } = [];

        public List<BlockHash> Computed { get; } = [];

        public int FailedLoads { get; private set; }

        public int CountAvailable(ReadOnlySpan<BlockHash> hashes)
        {
            int n = 0;
            while (n < hashes.Length && Held.Contains(hashes[n]))
            {
                n++;
            }

            return n;
        }

        public void OnBlockComputed(BlockHash hash, int block) => Computed.Add(hash);

        public void OnBlockEvicted(BlockHash hash, int block)
        {
        }

        public bool TryLoad(BlockHash hash, int block, IKvBlockStorage storage)
        {
            Held.Remove(hash);
            FailedLoads++;
            return false;
        }
    }

    /// <summary>Performs a step's loads as the real runner does (a failed one throws), then the fake model's step.</summary>
    private sealed class LoadingRunner(FakeModelRunner inner, IKvBlockTier tier) : IModelRunner
    {
        public int VocabSize => inner.VocabSize;

        public void Execute(SchedulerOutput batch, Span<float> logits)
        {
            foreach (var load in batch.BlockLoads)
            {
                if (!tier.TryLoad(load.Hash, load.Block, null!))
                {
                    throw new InvalidOperationException($"KV block {load.Hash} could not be loaded");
                }
            }

            inner.Execute(batch, logits);
        }
    }
}
