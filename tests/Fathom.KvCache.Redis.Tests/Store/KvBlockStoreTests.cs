using System.Diagnostics;
using Fathom.KvCache.Redis.Tests.Servers;
using StackExchange.Redis;

namespace Fathom.KvCache.Redis.Tests.Store;

/// <summary>The store against a real server; derived classes choose redis-server or embedded Garnet.</summary>
public abstract class KvBlockStoreTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];

    protected IKvTestServer Server { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<IKvTestServer> StartServerAsync();

    public async ValueTask InitializeAsync() => Server = await StartServerAsync();

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await Server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Functional tests get a generous fetch timeout: CI machines are shared and a timeout there is not what they
    /// test. The fault tests set the production-like 250 ms.
    /// </summary>
    protected static KvCacheOptions Options(Action<KvCacheOptions>? configure = null)
    {
        var options = new KvCacheOptions { FetchTimeout = TimeSpan.FromSeconds(3), CircuitCooldown = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        return options;
    }

    protected async Task<RedisKvBlockStore> StoreAsync(KvCacheOptions? options = null)
    {
        var store = await RedisKvBlockStore.ConnectAsync(Server.ConnectionString, options ?? Options());
        _owned.Add(store);
        return store;
    }

    protected async Task<IDatabase> RawAsync()
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString + ",abortConnect=false");
        _owned.Add(redis);
        return redis.GetDatabase();
    }

    protected static async Task WriteAsync(RedisKvBlockStore store, KvModelFingerprint fingerprint, params int[] blocks)
    {
        foreach (int i in blocks)
        {
            Assert.True(store.TryEnqueue(fingerprint, TestBlocks.Block(i)));
        }

        await store.FlushAsync(Ct);
    }

    [Fact]
    public async Task Blocks_written_behind_come_back_byte_for_byte()
    {
        var store = await StoreAsync();
        var fp = TestBlocks.Fingerprint();
        await WriteAsync(store, fp, 0, 1, 2, 3);

        var result = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0, 1, 2, 3), Ct);

        Assert.Equal(KvFetchOutcome.Hit, result.Outcome);
        Assert.Equal(4, result.Blocks.Count);
        for (int i = 0; i < 4; i++)
        {
            var expected = TestBlocks.Block(i);
            Assert.Equal(expected.Hash, result.Blocks[i].Hash);
            Assert.Equal(expected.LayerCount, result.Blocks[i].LayerCount);
            Assert.Equal(expected.DType, result.Blocks[i].DType);
            Assert.True(expected.Payload.Span.SequenceEqual(result.Blocks[i].Payload.Span), $"payload {i} differs");
        }

        Assert.Equal(4 * TestBlocks.Tokens, result.TokenCount);
        var stats = store.Statistics;
        Assert.Equal(4, stats.BlocksWritten);
        Assert.Equal(4, stats.HitBlocks);
        Assert.Equal(64, stats.HitTokens);
        Assert.True(stats.BytesRead >= 4L * TestBlocks.BlockBytes);
        Assert.True(stats.BytesWritten >= 4L * TestBlocks.BlockBytes);
        Assert.Equal(0, stats.RejectedTotal);
    }

    [Fact]
    public async Task The_run_stops_at_the_first_missing_block()
    {
        var store = await StoreAsync();
        var fp = TestBlocks.Fingerprint();
        await WriteAsync(store, fp, 0, 1, 3);

        var result = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0, 1, 2, 3), Ct);
        Assert.Equal([TestBlocks.Hash(0), TestBlocks.Hash(1)], result.Blocks.Select(b => b.Hash));

        var none = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(2, 3), Ct);
        Assert.Equal(KvFetchOutcome.Miss, none.Outcome);
        Assert.Empty(none.Blocks);
    }

    [Fact]
    public async Task Values_and_chunks_carry_the_configured_ttl()
    {
        var ttl = TimeSpan.FromMinutes(7);
        var store = await StoreAsync(Options(o => { o.Ttl = ttl; o.ChunkBytes = 100_000; }));
        var fp = TestBlocks.Fingerprint();
        await WriteAsync(store, fp, 0);
        var db = await RawAsync();
        string key = store.KeyFor(fp, TestBlocks.Hash(0));

        foreach (string k in new[] { key, key + ":0", key + ":5" })
        {
            var left = await db.KeyTimeToLiveAsync(k);
            Assert.NotNull(left);
            Assert.InRange(left.Value, ttl - TimeSpan.FromSeconds(30), ttl);
        }

        Assert.False(await db.KeyExistsAsync(key + ":6")); // 512 KiB in 100 kB chunks: 0..5
        var fetched = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0), Ct);
        Assert.True(TestBlocks.Block(0).Payload.Span.SequenceEqual(fetched.Blocks[0].Payload.Span));
    }

    [Fact]
    public async Task A_corrupted_value_is_rejected_counted_and_ends_the_run()
    {
        var store = await StoreAsync();
        var fp = TestBlocks.Fingerprint();
        await WriteAsync(store, fp, 0, 1, 2);
        var db = await RawAsync();
        await db.StringSetRangeAsync(store.KeyFor(fp, TestBlocks.Hash(1)), 1000, new byte[] { 0xFF, 0x00, 0xAA });

        var result = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0, 1, 2), Ct);

        Assert.Single(result.Blocks);
        Assert.Equal(1, store.Statistics.Rejected[KvRejectReason.ChecksumMismatch]);
    }

    [Fact]
    public async Task A_truncated_chunk_is_rejected()
    {
        var store = await StoreAsync(Options(o => o.ChunkBytes = 64 * 1024));
        var fp = TestBlocks.Fingerprint();
        await WriteAsync(store, fp, 0, 1);
        var db = await RawAsync();
        string chunk = store.KeyFor(fp, TestBlocks.Hash(0)) + ":2";
        byte[] whole = (await db.StringGetAsync(chunk))!;
        await db.StringSetAsync(chunk, whole.AsMemory(0, whole.Length / 2));

        var result = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0, 1), Ct);

        Assert.Equal(KvFetchOutcome.Miss, result.Outcome);
        Assert.Equal(1, store.Statistics.Rejected[KvRejectReason.Truncated]);
    }

    [Fact]
    public async Task A_value_copied_under_another_model_is_rejected_and_models_never_share_blocks()
    {
        var store = await StoreAsync();
        var a = TestBlocks.Fingerprint("weights-a");
        var b = TestBlocks.Fingerprint("weights-b");
        await WriteAsync(store, a, 0);

        Assert.Equal(KvFetchOutcome.Miss, (await store.FetchLongestRunAsync(b, TestBlocks.Shape, TestBlocks.Hashes(0), Ct)).Outcome);
        Assert.Equal(0, store.Statistics.RejectedTotal);

        var db = await RawAsync();
        await db.StringSetAsync(store.KeyFor(b, TestBlocks.Hash(0)), await db.StringGetAsync(store.KeyFor(a, TestBlocks.Hash(0))));
        var poisoned = await store.FetchLongestRunAsync(b, TestBlocks.Shape, TestBlocks.Hashes(0), Ct);

        Assert.Empty(poisoned.Blocks);
        Assert.Equal(1, store.Statistics.Rejected[KvRejectReason.WrongFingerprint]);
    }

    [Fact]
    public async Task Values_signed_with_another_key_or_unsigned_are_rejected_when_a_key_is_set()
    {
        var fp = TestBlocks.Fingerprint();
        var foreign = await StoreAsync(Options(o => o.HmacKey = "someone else"));
        var unsigned = await StoreAsync();
        var ours = await StoreAsync(Options(o => o.HmacKey = "engines' shared secret"));
        await WriteAsync(foreign, fp, 0);
        await WriteAsync(unsigned, fp, 1);
        await WriteAsync(ours, fp, 2);

        Assert.Empty((await ours.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0), Ct)).Blocks);
        Assert.Empty((await ours.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(1), Ct)).Blocks);
        Assert.Single((await ours.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(2), Ct)).Blocks);
        Assert.Equal(1, ours.Statistics.Rejected[KvRejectReason.HmacMismatch]);
        Assert.Equal(1, ours.Statistics.Rejected[KvRejectReason.HmacMissing]);
    }

    [Fact]
    public async Task A_full_write_queue_drops_instead_of_blocking()
    {
        var store = await StoreAsync(Options(o => { o.WriteQueueCapacity = 2; o.WriteBatchSize = 1; }));
        var fp = TestBlocks.Fingerprint();
        var block = TestBlocks.Block(0);
        var clock = Stopwatch.StartNew();
        int accepted = 0;
        for (int i = 0; i < 2000; i++)
        {
            accepted += store.TryEnqueue(fp, block with { Hash = TestBlocks.Hash(i) }) ? 1 : 0;
        }

        var enqueueTime = clock.Elapsed;
        await store.FlushAsync(Ct);

        Assert.True(enqueueTime < TimeSpan.FromSeconds(1), $"2000 enqueues took {enqueueTime}");
        Assert.InRange(accepted, 2, 1999);
        var stats = store.Statistics;
        Assert.Equal(2000 - accepted, stats.DroppedWrites);
        Assert.Equal(accepted, stats.BlocksWritten);
    }

    [Fact]
    public async Task The_skip_rule_leaves_a_run_to_prefill_when_prefill_is_faster()
    {
        var store = await StoreAsync(Options(o => o.PrefillTokensPerSecond = 1e12));
        var fp = TestBlocks.Fingerprint();
        await WriteAsync(store, fp, 0, 1);

        var result = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0, 1), Ct);

        Assert.Equal(KvFetchOutcome.SkippedSlowerThanRecompute, result.Outcome);
        Assert.Empty(result.Blocks);
        Assert.Equal(1, store.Statistics.SkippedFetches);
    }

    [Fact]
    public async Task A_killed_server_costs_at_most_a_timeout_opens_the_circuit_and_closes_it_when_back()
    {
        var options = Options(o => o.FetchTimeout = TimeSpan.FromMilliseconds(250));
        var store = await StoreAsync(options);
        var fp = TestBlocks.Fingerprint();
        await WriteAsync(store, fp, 0, 1);
        Assert.Equal(2, (await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0, 1), Ct)).Blocks.Count);

        await Server.KillAsync();
        var bound = options.FetchTimeout + TimeSpan.FromMilliseconds(250);
        for (int i = 0; i < options.CircuitFailureThreshold + 2; i++)
        {
            var clock = Stopwatch.StartNew();
            var result = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0, 1), Ct);
            Assert.True(clock.Elapsed < bound, $"fetch {i} took {clock.Elapsed}");
            Assert.Empty(result.Blocks);
        }

        Assert.Equal(KvCircuitState.Open, store.CircuitState);
        Assert.Equal(KvFetchOutcome.SkippedCircuitOpen, (await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0), Ct)).Outcome);
        Assert.True(store.TryEnqueue(fp, TestBlocks.Block(5)));
        await store.FlushAsync(Ct); // dropped (circuit open or failed), not stuck

        await Server.RestartAsync();
        var deadline = Stopwatch.StartNew();
        while (store.CircuitState != KvCircuitState.Closed && deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100, Ct);
            await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0), Ct);
        }

        Assert.Equal(KvCircuitState.Closed, store.CircuitState);
        await WriteAsync(store, fp, 0); // the restarted server is empty
        Assert.Single((await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0), Ct)).Blocks);
    }

    [Fact]
    public async Task A_stalled_server_costs_at_most_the_fetch_timeout()
    {
        if (!Server.SupportsDebugSleep)
        {
            Assert.Skip("Garnet has no DEBUG SLEEP to stall the server; covered against redis-server.");
        }

        var options = Options(o => o.FetchTimeout = TimeSpan.FromMilliseconds(250));
        var store = await StoreAsync(options);
        var fp = TestBlocks.Fingerprint();
        await WriteAsync(store, fp, 0);
        var db = await RawAsync();

        var sleep = db.ExecuteAsync("DEBUG", "SLEEP", "1");
        await Task.Delay(50, Ct);
        var clock = Stopwatch.StartNew();
        var result = await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0), Ct);
        var elapsed = clock.Elapsed;
        await sleep;

        Assert.Equal(KvFetchOutcome.TimedOut, result.Outcome);
        Assert.True(elapsed < options.FetchTimeout + TimeSpan.FromMilliseconds(150), $"fetch took {elapsed}");
        Assert.Equal(1, store.Statistics.TimedOutFetches);
    }
}
