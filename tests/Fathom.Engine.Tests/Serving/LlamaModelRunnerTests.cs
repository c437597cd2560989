using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Tests.Model;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Serving;

/// <summary>The scheduler driving a real model: batched, prefix-cached and chunked runs equal solo greedy runs.</summary>
public sealed class LlamaModelRunnerTests
{
    private static readonly int[][] Prompts =
    [
        [1, 403, 407, 261, 378],
        [1, 403, 407, 261, 378, 261, 429, 300, 312, 290, 271, 332, 299, 413, 280, 344, 389, 310, 301, 271],
        [1, 320, 261, 287, 438, 299],
    ];

    [Fact]
    public void Batched_requests_equal_their_solo_greedy_runs_and_return_every_block()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { KvBlockCount = 64, Threads = 2 });
        var expected = Prompts.Select(p => ModelRunner.Greedy(model, p, 24)).ToArray();

        var pool = new KvBlockPool(model.KvBlockCount, model.KvBlockSize);
        var kv = new KvCacheManager(pool, model.Fingerprint);
        // A small token budget forces chunked prefill beside running decodes.
        var scheduler = new Scheduler(new SchedulerConfig { MaxNumBatchedTokens = 8 }, kv);
        var core = new EngineCore(scheduler, new LlamaModelRunner(model));
        for (var round = 0; round < 2; round++)
        {
            var outputs = new Dictionary<string, List<int>>();
            for (var i = 0; i < Prompts.Length; i++)
            {
                core.AddRequest(new EngineRequest($"r{round}-{i}", Prompts[i], new SamplingParams { Temperature = 0, MaxTokens = 24, IgnoreEos = true }));
                outputs[$"r{round}-{i}"] = [];
            }

            for (var step = 0; step < 1000 && core.HasUnfinishedRequests; step++)
            {
                foreach (var update in core.Step())
                {
                    outputs[update.Sequence.RequestId].Add(update.Token.TokenId);
                }
            }

            Assert.False(core.HasUnfinishedRequests);
            for (var i = 0; i < Prompts.Length; i++)
            {
                Assert.Equal(expected[i], outputs[$"r{round}-{i}"]);
            }

            Assert.Equal(0, pool.UsedBlockCount);
        }
    }

    [Theory]
    [InlineData(KvCacheDataType.F16)]
    [InlineData(KvCacheDataType.F32)]
    [InlineData(KvCacheDataType.Fp8)]
    public void A_block_copied_through_the_storage_reads_back_identically(KvCacheDataType dataType)
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { KvBlockCount = 8, KvCacheDataType = dataType });
        _ = ModelRunner.Greedy(model, Prompts[1], 4);
        var storage = model.KvBlocks;
        Assert.Equal(dataType, storage.DataType);
        var hp = model.HyperParameters;
        Assert.Equal(2 * hp.LayerCount * model.KvBlockSize * hp.KvLength * KvCacheDataTypes.SizeOf(dataType), storage.BlockBytes);
        var first = new byte[storage.BlockBytes];
        storage.ReadBlock(0, first);
        Assert.Contains(first, v => v != 0);
        storage.WriteBlock(5, first);
        var back = new byte[storage.BlockBytes];
        storage.ReadBlock(5, back);
        Assert.Equal(first, back);
        Assert.Throws<ArgumentException>(() => storage.ReadBlock(0, new byte[storage.BlockBytes - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => storage.ReadBlock(8, first));
    }
}
