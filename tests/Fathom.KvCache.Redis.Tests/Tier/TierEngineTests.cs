using Fathom.Engine.KvCache;
using Fathom.KvCache.Redis.Tests.Servers;
using Fathom.Testing;
using StackExchange.Redis;

namespace Fathom.KvCache.Redis.Tests.Tier;

/// <summary>
/// Replicas of a real model (stories260K) sharing one real server through <see cref="Redis.Tier.RedisKvBlockTier"/>;
/// derived classes choose embedded Garnet or redis-server.
/// </summary>
public abstract class TierEngineTests : IAsyncLifetime
{
    private const int BlockSize = 16;
    private const int MaxTokens = 16;
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IDisposable> _engines = [];

    protected IKvTestServer Server { get; private set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Stories => SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    protected abstract Task<IKvTestServer> StartServerAsync();

    public async ValueTask InitializeAsync() => Server = await StartServerAsync();

    public async ValueTask DisposeAsync()
    {
        _engines.ForEach(e => e.Dispose());
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await Server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_second_replica_loads_the_prefix_computes_only_the_rest_and_generates_identically()
    {
        var prompt = Prompt(87, seed: 1); // 5 full blocks before the block holding the last token
        var storeA = await StoreAsync();
        var a = Engine(Stories, storeA);
        var b = Engine(Stories, await StoreAsync());

        var first = await a.CompleteAsync(prompt, MaxTokens, Ct);
        await storeA.FlushAsync(Ct);
        var second = await b.CompleteAsync(prompt, MaxTokens, Ct);

        Assert.Equal(0, first.CachedPromptTokens);
        Assert.Equal(87 + MaxTokens - 1, first.ComputedTokens);
        Assert.Equal(6, storeA.Statistics.BlocksWritten); // 102 computed tokens: 6 full blocks
        Assert.Equal(5, second.Prefetch!.FetchedBlocks);
        Assert.Equal(5 * BlockSize, second.CachedPromptTokens);
        Assert.Equal(87 - (5 * BlockSize) + MaxTokens - 1, second.ComputedTokens);
        Assert.Equal(first.Tokens, second.Tokens);
        Assert.Equal(5 * BlockSize, b.KvCache.RemoteHitTokens);
        Assert.Equal(5, b.Tier!.Statistics.LoadedBlocks);
        Assert.Equal(0, b.Tier.Statistics.StagedBlocks);

        // Loaded blocks are B's local cache now: the next request does not ask Redis.
        long lookups = b.Tier.Store.Statistics.Lookups;
        var third = await b.CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(5, third.Prefetch!.LocalBlocks);
        Assert.Equal(lookups, b.Tier.Store.Statistics.Lookups);
        Assert.Equal(first.Tokens, third.Tokens);
    }

    [Fact]
    public async Task A_prompt_sharing_only_a_prefix_loads_the_shared_blocks_and_computes_the_rest()
    {
        var prompt = Prompt(87, seed: 2);
        int[] other = [.. prompt[..70], .. Prompt(40, seed: 3)[1..]]; // diverges inside block 4
        var storeA = await StoreAsync();
        var a = Engine(Stories, storeA);
        var b = Engine(Stories, await StoreAsync());
        var reference = Engine(Stories, null);

        await a.CompleteAsync(prompt, MaxTokens, Ct);
        await storeA.FlushAsync(Ct);
        var shared = await b.CompleteAsync(other, MaxTokens, Ct);
        var expected = await reference.CompleteAsync(other, MaxTokens, Ct);

        Assert.Equal(4, shared.Prefetch!.FetchedBlocks);
        Assert.Equal(4 * BlockSize, shared.CachedPromptTokens);
        Assert.Equal(other.Length - (4 * BlockSize) + MaxTokens - 1, shared.ComputedTokens);
        Assert.Equal(expected.Tokens, shared.Tokens);
    }

    [Fact]
    public async Task A_restarted_replica_with_an_empty_local_cache_hits_redis()
    {
        var prompt = Prompt(87, seed: 4);
        var store = await StoreAsync();
        var first = await Engine(Stories, store).CompleteAsync(prompt, MaxTokens, Ct);
        await store.FlushAsync(Ct);
        _engines[^1].Dispose();
        _engines.RemoveAt(_engines.Count - 1);

        var restarted = Engine(Stories, await StoreAsync());
        var again = await restarted.CompleteAsync(prompt, MaxTokens, Ct);

        Assert.Equal(5 * BlockSize, again.CachedPromptTokens);
        Assert.Equal(first.Tokens, again.Tokens);
    }

    [Fact]
    public async Task A_killed_server_fails_no_request_opens_the_circuit_and_closes_it_when_back()
    {
        var options = FaultOptions();
        var storeA = await StoreAsync(options);
        var storeB = await StoreAsync(options);
        var a = Engine(Stories, storeA);
        var b = Engine(Stories, storeB);
        var reference = Engine(Stories, null);
        var computed5 = await a.CompleteAsync(Prompt(87, seed: 5), MaxTokens, Ct);
        await storeA.FlushAsync(Ct);

        // Killed while a replica loads: whichever comes first, the request succeeds with the same output.
        var during = b.CompleteAsync(Prompt(87, seed: 5), MaxTokens, Ct);
        await Server.KillAsync();
        var duringKill = await during;
        Assert.Equal(computed5.Tokens, duringKill.Tokens);
        Assert.Contains(duringKill.CachedPromptTokens, new[] { 0, 5 * BlockSize });

        for (int i = 0; i < options.CircuitFailureThreshold + 2; i++)
        {
            var prompt = Prompt(87, seed: 20 + i);
            var served = await b.CompleteAsync(prompt, MaxTokens, Ct);
            var expected = await reference.CompleteAsync(prompt, MaxTokens, Ct);
            Assert.Equal(expected.Tokens, served.Tokens);
            Assert.Equal(0, served.CachedPromptTokens);
            Assert.True(served.PrefetchTime < options.FetchTimeout + TimeSpan.FromMilliseconds(500), $"prefetch {i} took {served.PrefetchTime}");
        }

        Assert.Equal(KvCircuitState.Open, storeB.CircuitState);
        await storeB.FlushAsync(Ct); // write-behind while Redis is gone: dropped, not stuck
        Assert.True(storeB.Statistics.DroppedWrites > 0);

        await Server.RestartAsync();
        var probe = Prompt(87, seed: 50);
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (storeB.CircuitState != KvCircuitState.Closed && deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100, Ct);
            await b.Tier!.PrefetchAsync(probe, Ct);
        }

        Assert.Equal(KvCircuitState.Closed, storeB.CircuitState);
        var fresh = Prompt(87, seed: 60);
        var computed = await b.CompleteAsync(fresh, MaxTokens, Ct);
        await storeB.FlushAsync(Ct);
        var loaded = await Engine(Stories, await StoreAsync()).CompleteAsync(fresh, MaxTokens, Ct);
        Assert.Equal(5 * BlockSize, loaded.CachedPromptTokens);
        Assert.Equal(computed.Tokens, loaded.Tokens);
    }

    [Fact]
    public async Task A_stalled_server_delays_a_request_by_at_most_the_fetch_timeout()
    {
        if (!Server.SupportsDebugSleep)
        {
            Assert.Skip("Garnet has no DEBUG SLEEP to stall the server; covered against redis-server.");
        }

        var options = FaultOptions();
        var storeA = await StoreAsync();
        var a = Engine(Stories, storeA);
        var b = Engine(Stories, await StoreAsync(options));
        var prompt = Prompt(87, seed: 7);
        var first = await a.CompleteAsync(prompt, MaxTokens, Ct);
        await storeA.FlushAsync(Ct);
        var db = await RawAsync();

        var sleep = db.ExecuteAsync("DEBUG", "SLEEP", "1");
        await Task.Delay(50, Ct);
        var stalled = await b.CompleteAsync(prompt, MaxTokens, Ct);
        await sleep;

        Assert.Equal(KvFetchOutcome.TimedOut, stalled.Prefetch!.Outcome);
        Assert.True(stalled.PrefetchTime < options.FetchTimeout + TimeSpan.FromMilliseconds(200), $"prefetch took {stalled.PrefetchTime}");
        Assert.Equal(0, stalled.CachedPromptTokens);
        Assert.Equal(first.Tokens, stalled.Tokens);
    }

    [Fact]
    public async Task A_corrupted_block_ends_the_run_is_counted_and_leaves_the_output_unchanged()
    {
        var prompt = Prompt(87, seed: 8);
        var storeA = await StoreAsync();
        var storeB = await StoreAsync();
        var a = Engine(Stories, storeA);
        var b = Engine(Stories, storeB);
        var first = await a.CompleteAsync(prompt, MaxTokens, Ct);
        await storeA.FlushAsync(Ct);
        var db = await RawAsync();
        await db.StringSetRangeAsync(KeyOf(storeA, a.Model.Fingerprint, prompt, block: 2), 1000, new byte[] { 0x7F, 0x00, 0x55 });

        var second = await b.CompleteAsync(prompt, MaxTokens, Ct);

        Assert.Equal(2 * BlockSize, second.CachedPromptTokens);
        Assert.Equal(1, storeB.Statistics.Rejected[KvRejectReason.ChecksumMismatch]);
        Assert.Equal(first.Tokens, second.Tokens);
    }

    [Fact]
    public async Task Blocks_signed_with_a_foreign_key_are_rejected_and_ours_are_used()
    {
        var prompt = Prompt(87, seed: 9);
        var foreign = await StoreAsync(FunctionalOptions(o => o.HmacKey = "someone else's key"));
        var ours = await StoreAsync(FunctionalOptions(o => o.HmacKey = "the engines' secret"));
        var poisoner = Engine(Stories, foreign);
        var b = Engine(Stories, ours);
        var first = await poisoner.CompleteAsync(prompt, MaxTokens, Ct);
        await foreign.FlushAsync(Ct);

        var second = await b.CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(0, second.CachedPromptTokens);
        Assert.Equal(1, ours.Statistics.Rejected[KvRejectReason.HmacMismatch]);
        Assert.Equal(first.Tokens, second.Tokens);

        // B recomputed and signed the blocks with the shared key; a third replica with that key uses them.
        await ours.FlushAsync(Ct);
        var third = await Engine(Stories, await StoreAsync(FunctionalOptions(o => o.HmacKey = "the engines' secret")))
            .CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(5 * BlockSize, third.CachedPromptTokens);
        Assert.Equal(first.Tokens, third.Tokens);
    }

    [Fact]
    public async Task Two_models_sharing_one_server_never_see_each_others_blocks()
    {
        var tiny = SharedFixtures.Default.GetPath(SharedFixtures.LlamaTinyRandom);
        var prompt = Prompt(87, seed: 10);
        var storeA = await StoreAsync();
        var storeC = await StoreAsync();
        var a = Engine(Stories, storeA);
        var c = Engine(tiny, storeC);
        var expected = await Engine(tiny, null).CompleteAsync(prompt, MaxTokens, Ct);
        Assert.NotEqual(a.Model.Fingerprint, c.Model.Fingerprint);

        await a.CompleteAsync(prompt, MaxTokens, Ct);
        await storeA.FlushAsync(Ct);
        var other = await c.CompleteAsync(prompt, MaxTokens, Ct);

        Assert.Equal(KvFetchOutcome.Miss, other.Prefetch!.Outcome);
        Assert.Equal(0, other.CachedPromptTokens);
        Assert.Equal(0, storeC.Statistics.RejectedTotal);
        Assert.Equal(expected.Tokens, other.Tokens);

        // Planting the stories model's values under the tiny model's keys: rejected by the header's fingerprint.
        await storeC.FlushAsync(Ct);
        var db = await RawAsync();
        for (int i = 0; i < 5; i++)
        {
            var planted = await db.StringGetAsync(KeyOf(storeA, a.Model.Fingerprint, prompt, i));
            Assert.True(planted.HasValue);
            await db.StringSetAsync(KeyOf(storeC, c.Model.Fingerprint, prompt, i), planted);
        }

        var storeD = await StoreAsync();
        var poisoned = await Engine(tiny, storeD).CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(0, poisoned.CachedPromptTokens);
        Assert.Equal(1, storeD.Statistics.Rejected[KvRejectReason.WrongFingerprint]);
        Assert.Equal(expected.Tokens, poisoned.Tokens);
    }

    [Fact]
    public async Task Blocks_travel_in_the_engines_kv_dtype_and_an_f32_engine_never_loads_f16_blocks()
    {
        var prompt = Prompt(87, seed: 13);
        var storeA = await StoreAsync();
        var storeB = await StoreAsync();
        var storeC = await StoreAsync();
        var a = Engine(Stories, storeA); // the CPU default: f16
        var wide = Engine(Stories, storeB, KvCacheDataType.F32);
        var narrow = Engine(Stories, storeC, KvCacheDataType.F16);
        Assert.Equal(KvBlockDType.F16, a.Tier!.BlockShape.DType);
        Assert.Equal(KvBlockDType.F32, wide.Tier!.BlockShape.DType);
        Assert.Equal(wide.Tier.BlockShape.PayloadBytes / 2, a.Tier.BlockShape.PayloadBytes);
        Assert.NotEqual(a.Model.Fingerprint, wide.Model.Fingerprint);

        var first = await a.CompleteAsync(prompt, MaxTokens, Ct);
        await storeA.FlushAsync(Ct);
        Assert.Equal(6, storeA.Statistics.BlocksWritten);

        // The f32 engine asks under its own keys: nothing there, it computes everything.
        var other = await wide.CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(KvFetchOutcome.Miss, other.Prefetch!.Outcome);
        Assert.Equal(0, other.CachedPromptTokens);

        // An f16 replica loads the f16 blocks, byte for byte what A computed, and generates the same tokens.
        var loaded = await narrow.CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(5, loaded.Prefetch!.FetchedBlocks);
        Assert.Equal(5 * BlockSize, loaded.CachedPromptTokens);
        Assert.Equal(first.Tokens, loaded.Tokens);
        var stored = await (await RawAsync()).StringGetAsync(KeyOf(storeA, a.Model.Fingerprint, prompt, 0));
        Assert.True(stored.HasValue);
        var payload = new byte[a.Model.KvBlocks.BlockBytes];
        int block = narrow.KvCache.Pool.TryGetCachedBlock(BlockHashOf(narrow.Model.Fingerprint, prompt, 0), out int b) ? b : -1;
        narrow.Model.KvBlocks.ReadBlock(block, payload);
        Assert.True(((byte[])stored!).AsSpan(KvBlockHeader.Size, payload.Length).SequenceEqual(payload), "the stored value's payload is not the loaded block");

        // f16 values planted under the f32 engine's keys are rejected by their header, never loaded as f32.
        var db = await RawAsync();
        for (int i = 0; i < 5; i++)
        {
            var planted = await db.StringGetAsync(KeyOf(storeA, a.Model.Fingerprint, prompt, i));
            await db.StringSetAsync(KeyOf(storeB, wide.Model.Fingerprint, prompt, i), planted);
        }

        var storeD = await StoreAsync();
        var poisoned = await Engine(Stories, storeD, KvCacheDataType.F32).CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(0, poisoned.CachedPromptTokens);
        Assert.True(storeD.Statistics.RejectedTotal >= 1);
        Assert.Equal(other.Tokens, poisoned.Tokens);
    }

    [Fact]
    public async Task Fp8_blocks_round_trip_byte_for_byte_and_an_f16_engine_never_loads_them()
    {
        var prompt = Prompt(87, seed: 17);
        var storeA = await StoreAsync();
        var storeB = await StoreAsync();
        var storeC = await StoreAsync();
        var a = Engine(Stories, storeA, KvCacheDataType.Fp8);
        var half = Engine(Stories, storeB, KvCacheDataType.F16);
        var replica = Engine(Stories, storeC, KvCacheDataType.Fp8);
        Assert.Equal(KvBlockDType.Fp8E4M3, a.Tier!.BlockShape.DType);
        Assert.Equal(half.Tier!.BlockShape.PayloadBytes / 2, a.Tier.BlockShape.PayloadBytes); // one byte an element
        Assert.NotEqual(a.Model.Fingerprint, half.Model.Fingerprint);

        var first = await a.CompleteAsync(prompt, MaxTokens, Ct);
        await storeA.FlushAsync(Ct);
        Assert.Equal(6, storeA.Statistics.BlocksWritten);

        // An fp8 replica loads the fp8 blocks: the stored payload is the block it computed, byte for byte, and the
        // loaded block is that payload; it generates the same tokens.
        var loaded = await replica.CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(5, loaded.Prefetch!.FetchedBlocks);
        Assert.Equal(5 * BlockSize, loaded.CachedPromptTokens);
        Assert.Equal(first.Tokens, loaded.Tokens);
        var db = await RawAsync();
        for (int i = 0; i < 5; i++)
        {
            var stored = (byte[])(await db.StringGetAsync(KeyOf(storeA, a.Model.Fingerprint, prompt, i)))!;
            var computed = new byte[a.Model.KvBlocks.BlockBytes];
            Assert.True(a.KvCache.Pool.TryGetCachedBlock(BlockHashOf(a.Model.Fingerprint, prompt, i), out int source));
            a.Model.KvBlocks.ReadBlock(source, computed);
            var copy = new byte[computed.Length];
            Assert.True(replica.KvCache.Pool.TryGetCachedBlock(BlockHashOf(replica.Model.Fingerprint, prompt, i), out int target));
            replica.Model.KvBlocks.ReadBlock(target, copy);
            Assert.True(stored.AsSpan(KvBlockHeader.Size, computed.Length).SequenceEqual(computed), $"block {i}: the stored payload is not the computed fp8 block");
            Assert.Equal(computed, copy);

            // The same values planted under the f16 engine's keys: rejected by their header, never read as f16.
            await db.StringSetAsync(KeyOf(storeB, half.Model.Fingerprint, prompt, i), stored);
        }

        var storeD = await StoreAsync();
        var poisoned = await Engine(Stories, storeD, KvCacheDataType.F16).CompleteAsync(prompt, MaxTokens, Ct);
        Assert.Equal(0, poisoned.CachedPromptTokens);
        Assert.True(storeD.Statistics.RejectedTotal >= 1);
    }

    [Fact]
    public async Task A_fetch_estimated_slower_than_prefill_is_skipped_and_the_prefix_recomputed()
    {
        var prompt = Prompt(87, seed: 11);
        var storeA = await StoreAsync();
        var storeB = await StoreAsync(FunctionalOptions(o => o.PrefillTokensPerSecond = 1e12)); // prefill "instant"
        var first = await Engine(Stories, storeA).CompleteAsync(prompt, MaxTokens, Ct);
        await storeA.FlushAsync(Ct);

        var second = await Engine(Stories, storeB).CompleteAsync(prompt, MaxTokens, Ct);

        Assert.Equal(KvFetchOutcome.SkippedSlowerThanRecompute, second.Prefetch!.Outcome);
        Assert.Equal(0, second.CachedPromptTokens);
        Assert.Equal(first.Tokens, second.Tokens);
        Assert.Equal(1, storeB.Statistics.SkippedFetches);
    }

    [Fact]
    public async Task The_runner_reports_prefill_speed_to_the_skip_rule()
    {
        var store = await StoreAsync();
        Assert.Equal(0, store.Rates.PrefillTokensPerSecond);
        var engine = TieredEngine.Start(Stories, store, reportPrefill: true);
        _engines.Add(engine);

        await engine.CompleteAsync(Prompt(87, seed: 12), MaxTokens, Ct);

        Assert.True(store.Rates.PrefillTokensPerSecond > 0, "no prefill rate learned from an 87-token prefill step");
    }

    /// <summary>BOS then pseudo-random ids of stories260K's 512-token vocabulary.</summary>
    private static int[] Prompt(int length, int seed) =>
        [1, .. Enumerable.Range(0, length - 1).Select(i => 3 + (((i + 1) * 7919 + (seed * 104_729)) % 509))];

    private static string KeyOf(RedisKvBlockStore store, ModelFingerprint fingerprint, int[] prompt, int block) =>
        store.KeyFor(new KvModelFingerprint(fingerprint.Value), BlockHashOf(fingerprint, prompt, block));

    private static BlockHash BlockHashOf(ModelFingerprint fingerprint, int[] prompt, int block)
    {
        var hashes = new List<BlockHash>();
        BlockHasher.ExtendChain(hashes, prompt, BlockSize, block + 1, fingerprint);
        return hashes[block];
    }

    /// <summary>A generous fetch timeout: CI machines are shared, and a timeout is not what functional tests test.</summary>
    private static KvCacheOptions FunctionalOptions(Action<KvCacheOptions>? configure = null)
    {
        var options = new KvCacheOptions { FetchTimeout = TimeSpan.FromSeconds(3), CircuitCooldown = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        return options;
    }

    private static KvCacheOptions FaultOptions() =>
        FunctionalOptions(o => o.FetchTimeout = TimeSpan.FromMilliseconds(250));

    private TieredEngine Engine(string modelPath, RedisKvBlockStore? store, KvCacheDataType kvType = KvCacheDataType.Auto)
    {
        var engine = TieredEngine.Start(modelPath, store, kvType: kvType);
        _engines.Add(engine);
        return engine;
    }

    private async Task<RedisKvBlockStore> StoreAsync(KvCacheOptions? options = null)
    {
        var store = await RedisKvBlockStore.ConnectAsync(Server.ConnectionString, options ?? FunctionalOptions());
        _owned.Add(store);
        return store;
    }

    private async Task<IDatabase> RawAsync()
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString + ",abortConnect=false");
        _owned.Add(redis);
        return redis.GetDatabase();
    }
}
