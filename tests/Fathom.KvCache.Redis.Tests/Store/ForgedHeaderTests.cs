using System.Buffers.Binary;
using System.Globalization;
using Fathom.Engine.KvCache;
using Fathom.Testing;
using StackExchange.Redis;

namespace Fathom.KvCache.Redis.Tests.Store;

/// <summary>Runs alone: it measures the process's allocations around one fetch.</summary>
[CollectionDefinition(nameof(ForgedHeaderTests), DisableParallelization = true)]
public sealed class ForgedHeaderMeasurement;

/// <summary>
/// Forged values written straight into a real redis-server: whatever a header claims, the store reads one 96-byte
/// header per candidate and nothing more (counted by the server's <c>INFO commandstats</c>), allocates nothing large,
/// and rejects the value with its reason.
/// </summary>
[Collection(nameof(ForgedHeaderTests))]
public sealed class ForgedHeaderTests : IAsyncLifetime
{
    private const int ChunkBytes = 1 << 20;
    private const string EnginesKey = "the engines' shared secret, 32+ bytes long";

    // A 4 MiB block in 4 chunks: an honest fetch reads and allocates at least that much, a forged one must not.
    private static readonly KvBlockShape Shape = new(TestBlocks.Layers, TestBlocks.Tokens, KvBlockDType.F16, 4 * ChunkBytes);
    private static readonly KvModelFingerprint Fp = TestBlocks.Fingerprint();
    private static readonly string[] ValueReads = ["get", "getrange", "substr", "mget", "getex", "getdel", "strlen", "lcs"];
    private readonly List<IAsyncDisposable> _owned = [];
    private RedisServer _server = null!;
    private IDatabase _raw = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        var redis = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString + ",abortConnect=false,allowAdmin=true");
        _owned.Add(redis);
        _raw = redis.GetDatabase();
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    public static TheoryData<string> Forgeries => ["huge-chunk-count", "huge-payload", "chunk-count-inconsistent", "wrong-layers", "wrong-dtype", "wrong-tokens"];

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_forged_header_costs_one_header_read_and_no_large_allocation(string forgery)
    {
        var store = await StoreAsync(hmacKey: null);
        var block = Block(0);
        var encoded = KvBlockCodec.Encode(Fp, block, hmacKey: null, ChunkBytes);
        byte[] manifest = encoded.Manifest;
        var (offset, value, reason) = forgery switch
        {
            "huge-chunk-count" => (68, (long)int.MaxValue, KvRejectReason.BadHeader),
            "huge-payload" => (72, 1L << 40, KvRejectReason.WrongShape),
            "chunk-count-inconsistent" => (68, 3L, KvRejectReason.BadHeader),
            "wrong-layers" => (56, TestBlocks.Layers + 1L, KvRejectReason.WrongShape),
            "wrong-tokens" => (60, 4096L, KvRejectReason.WrongShape),
            "wrong-dtype" => (64, (long)KvBlockDType.F32, KvRejectReason.WrongShape),
            _ => throw new ArgumentOutOfRangeException(nameof(forgery)),
        };
        if (offset == 72)
        {
            BinaryPrimitives.WriteInt64LittleEndian(manifest.AsSpan(offset), value);
        }
        else if (offset == 64)
        {
            manifest[offset] = (byte)value;
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(manifest.AsSpan(offset), (int)value);
        }

        await WriteRawAsync(store, block.Hash, manifest, encoded.Chunks);

        var (result, reads, allocated) = await MeasuredFetchAsync(store, block.Hash);

        Assert.Empty(result.Blocks);
        Assert.Equal(1, reads["getrange"]);
        Assert.Equal(1, reads.Values.Sum());
        Assert.True(allocated < 512 * 1024, $"the fetch allocated {allocated} bytes");
        Assert.Equal(1, store.Statistics.Rejected[reason]);
    }

    [Fact]
    public async Task A_header_signed_with_another_key_or_unsigned_costs_one_header_read_though_its_payload_is_there()
    {
        var store = await StoreAsync(EnginesKey);
        var foreign = Block(1);
        var unsigned = Block(2);
        var foreignValue = KvBlockCodec.Encode(Fp, foreign, "an attacker's key of 32 bytes or more"u8.ToArray(), ChunkBytes);
        var unsignedValue = KvBlockCodec.Encode(Fp, unsigned, hmacKey: null, ChunkBytes);
        await WriteRawAsync(store, foreign.Hash, foreignValue.Manifest, foreignValue.Chunks);
        await WriteRawAsync(store, unsigned.Hash, unsignedValue.Manifest, unsignedValue.Chunks);

        var (badTag, tagReads, tagAllocated) = await MeasuredFetchAsync(store, foreign.Hash);
        var (missing, missingReads, missingAllocated) = await MeasuredFetchAsync(store, unsigned.Hash);

        Assert.Empty(badTag.Blocks);
        Assert.Empty(missing.Blocks);
        Assert.Equal(1, tagReads.Values.Sum());
        Assert.Equal(1, missingReads.Values.Sum());
        Assert.True(Math.Max(tagAllocated, missingAllocated) < 512 * 1024, $"the fetches allocated {tagAllocated} and {missingAllocated} bytes");
        Assert.Equal(1, store.Statistics.Rejected[KvRejectReason.HmacMismatch]);
        Assert.Equal(1, store.Statistics.Rejected[KvRejectReason.HmacMissing]);
    }

    [Fact]
    public async Task An_honest_block_costs_the_header_the_manifest_and_its_chunks_and_the_measurement_sees_it()
    {
        var store = await StoreAsync(EnginesKey);
        var block = Block(3);
        Assert.True(store.TryEnqueue(Fp, block));
        await store.FlushAsync(Ct);

        var (result, reads, allocated) = await MeasuredFetchAsync(store, block.Hash);

        Assert.Single(result.Blocks);
        Assert.True(block.Payload.Span.SequenceEqual(result.Blocks[0].Payload.Span));
        Assert.Equal(1 + 1 + 4, reads["getrange"]); // header probe, manifest, 4 chunks
        Assert.Equal(6, reads.Values.Sum());
        Assert.True(allocated >= Shape.PayloadBytes, $"an honest 4 MiB fetch allocated only {allocated} bytes");
    }

    [Fact]
    public async Task A_value_grown_after_its_header_is_never_read_whole()
    {
        var store = await StoreAsync(EnginesKey);
        var block = Block(4) with { Payload = new byte[512] }; // inline value of a small-shaped model
        var small = Shape with { PayloadBytes = 512 };
        var encoded = KvBlockCodec.Encode(Fp, block, "the engines' shared secret, 32+ bytes long"u8.ToArray(), ChunkBytes);
        byte[] grown = [.. encoded.Manifest, .. new byte[8 << 20]];
        await _raw.StringSetAsync(store.KeyFor(Fp, block.Hash), grown);

        await _raw.ExecuteAsync("CONFIG", "RESETSTAT");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await store.FetchLongestRunAsync(Fp, small, [block.Hash], Ct);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Empty(result.Blocks);
        Assert.Equal(1, store.Statistics.Rejected[KvRejectReason.Truncated]);
        Assert.True(allocated < 512 * 1024, $"the fetch allocated {allocated} bytes of an 8 MiB value");
    }

    private static KvBlock Block(int i)
    {
        var payload = new byte[Shape.PayloadBytes];
        new Random(i).NextBytes(payload);
        return new KvBlock(TestBlocks.Hash(i), Shape.LayerCount, Shape.TokenCount, Shape.DType, payload);
    }

    private async Task<RedisKvBlockStore> StoreAsync(string? hmacKey)
    {
        var store = await RedisKvBlockStore.ConnectAsync(_server.ConnectionString, new KvCacheOptions
        {
            FetchTimeout = TimeSpan.FromSeconds(5),
            ChunkBytes = ChunkBytes,
            HmacKey = hmacKey,
            PrefillTokensPerSecond = 0, // never skip: the fetch must reach the transfer round when the header allows it
        });
        _owned.Add(store);
        return store;
    }

    private async Task WriteRawAsync(RedisKvBlockStore store, BlockHash hash, byte[] manifest, ReadOnlyMemory<byte>[] chunks)
    {
        string key = store.KeyFor(Fp, hash);
        for (int c = 0; c < chunks.Length; c++)
        {
            await _raw.StringSetAsync($"{key}:{c}", chunks[c]);
        }

        await _raw.StringSetAsync(key, manifest);
    }

    /// <summary>One fetch of <paramref name="hash"/>, with the value-reading commands the server ran for it and the bytes this process allocated.</summary>
    private async Task<(KvFetchResult Result, Dictionary<string, long> Reads, long Allocated)> MeasuredFetchAsync(RedisKvBlockStore store, BlockHash hash)
    {
        await _raw.ExecuteAsync("CONFIG", "RESETSTAT");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await store.FetchLongestRunAsync(Fp, Shape, [hash], Ct);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        return (result, await ValueReadsAsync(), allocated);
    }

    private async Task<Dictionary<string, long>> ValueReadsAsync()
    {
        string info = (string)(await _raw.ExecuteAsync("INFO", "commandstats"))!;
        var reads = ValueReads.ToDictionary(c => c, _ => 0L);
        foreach (string line in info.Split('\n', StringSplitOptions.TrimEntries))
        {
            // cmdstat_getrange:calls=1,usec=3,usec_per_call=3.00,...
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is > 8 and int colon)
            {
                string command = line[8..colon];
                if (reads.ContainsKey(command))
                {
                    string calls = line[(colon + 1)..].Split(',')[0];
                    reads[command] = long.Parse(calls["calls=".Length..], CultureInfo.InvariantCulture);
                }
            }
        }

        return reads;
    }
}
