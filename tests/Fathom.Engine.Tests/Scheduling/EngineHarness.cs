using Fathom.Engine.KvCache;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>A scheduler, KV manager, fake runner and engine loop wired together for tests.</summary>
internal sealed class EngineHarness
{
    public const int Vocab = 64;

    public EngineHarness(int totalBlocks, int blockSize = 4, SchedulerConfig? config = null, Func<Sequence, bool>? stopBetweenSteps = null)
    {
        Pool = new KvBlockPool(totalBlocks, blockSize);
        Kv = new KvCacheManager(Pool, ModelFingerprint.Of("fake-model"));
        Scheduler = new Scheduler(config ?? new SchedulerConfig(), Kv);
        StopBetweenSteps = stopBetweenSteps;
        Runner = new FakeModelRunner(totalBlocks, blockSize, Vocab);
        Core = new EngineCore(Scheduler, Runner);
    }

    /// <summary>Plays the host's stop-string check: true finishes the sequence after its update, before the next step.</summary>
    public Func<Sequence, bool>? StopBetweenSteps { get; }

    public KvBlockPool Pool { get; }

    public KvCacheManager Kv { get; }

    public Scheduler Scheduler { get; }

    public FakeModelRunner Runner { get; }

    public EngineCore Core { get; }

    public Dictionary<(string Request, int Index), List<int>> Outputs { get; } = [];

    public Dictionary<(string Request, int Index), FinishReason> Finished { get; } = [];

    public static EngineRequest Greedy(string id, IReadOnlyList<int> prompt, int maxTokens, int priority = 0) =>
        new(id, prompt, new SamplingParams { Temperature = 0, MaxTokens = maxTokens }) { Priority = priority };

    public static int[] Prompt(int seed, int length) => [.. Enumerable.Range(0, length).Select(i => ((seed * 31) + (i * 7)) % Vocab)];

    /// <summary>Runs steps until idle (bounded), collecting outputs.</summary>
    public void RunToCompletion(int maxSteps = 10_000)
    {
        for (int step = 0; step < maxSteps && Core.HasUnfinishedRequests; step++)
        {
            Collect(Core.Step());
        }

        Assert.False(Core.HasUnfinishedRequests, "the engine did not drain");
    }

    public void Collect(IReadOnlyList<SequenceUpdate> updates)
    {
        foreach (var update in updates)
        {
            var key = (update.Sequence.RequestId, update.Sequence.Index);
            if (!Outputs.TryGetValue(key, out var tokens))
            {
                Outputs[key] = tokens = [];
            }

            tokens.Add(update.Token.TokenId);
            if (update.FinishReason is { } reason)
            {
                Finished[key] = reason;
            }
            else if (StopBetweenSteps?.Invoke(update.Sequence) == true && Core.FinishSequence(update.Sequence.Id, FinishReason.Stop))
            {
                Finished[key] = FinishReason.Stop;
            }
        }
    }

    /// <summary>No leaks: every block is free or idle in the prefix cache.</summary>
    public void AssertAllBlocksReturned()
    {
        Assert.Equal(0, Pool.UsedBlockCount);
        Assert.Equal(Pool.TotalBlocks, Pool.FreeBlockCount + Pool.CachedIdleBlockCount);
        for (int b = 0; b < Pool.TotalBlocks; b++)
        {
            Assert.Equal(0, Pool.RefCount(b));
        }
    }
}
