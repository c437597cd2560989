using Fathom.Engine.KvCache;

namespace Fathom.Engine.Tests.KvCache;

public sealed class KvCacheManagerTests
{
    private const int BlockSize = 4;
    private static readonly ModelFingerprint Model = ModelFingerprint.Of("m");

    private static int[] Tokens(int count, int salt = 0) => [.. Enumerable.Range(salt, count)];

    // Allocates and "computes" tokens for a fresh table, registering its full blocks, as the scheduler would.
    private static BlockTable Compute(KvCacheManager kv, int[] tokens, List<BlockHash> hashes)
    {
        var table = new BlockTable();
        var prefix = kv.FindCachedPrefix(tokens, hashes);
        Assert.True(kv.TryAllocate(table, tokens.Length - prefix.NumTokens, prefix, [], []));
        kv.CacheComputedBlocks(table, tokens, tokens.Length, hashes);
        return table;
    }

    [Fact]
    public void Fork_shares_every_block_and_a_write_into_the_shared_partial_block_is_copied_first()
    {
        var kv = new KvCacheManager(new KvBlockPool(8, BlockSize), Model);
        var parent = new BlockTable();
        Assert.True(kv.TryAllocate(parent, 6, null, [], [])); // one full block + a partial one with 2 tokens
        var child = new BlockTable();
        kv.Fork(parent, child);
        Assert.Equal(parent.Blocks, child.Blocks);
        Assert.All(parent.Blocks, b => Assert.Equal(2, kv.Pool.RefCount(b)));

        var copies = new List<BlockCopy>();
        Assert.True(kv.TryAllocate(child, 1, null, copies, []));
        var copy = Assert.Single(copies);
        Assert.Equal(parent.Blocks[1], copy.Source);
        Assert.Equal(child.Blocks[1], copy.Destination);
        Assert.NotEqual(parent.Blocks[1], child.Blocks[1]);
        Assert.Equal(parent.Blocks[0], child.Blocks[0]);
        Assert.Equal(1, kv.Pool.RefCount(parent.Blocks[1]));
        Assert.Equal(2, kv.Pool.RefCount(parent.Blocks[0]));

        copies.Clear();
        Assert.True(kv.TryAllocate(parent, 1, null, copies, []));
        Assert.Empty(copies); // the parent owns its partial block alone now

        kv.Free(parent);
        kv.Free(child);
        Assert.Equal(8, kv.Pool.FreeBlockCount);
    }

    [Fact]
    public void A_fork_at_a_block_boundary_needs_no_copy()
    {
        var kv = new KvCacheManager(new KvBlockPool(8, BlockSize), Model);
        var parent = new BlockTable();
        Assert.True(kv.TryAllocate(parent, 8, null, [], []));
        var child = new BlockTable();
        kv.Fork(parent, child);
        var copies = new List<BlockCopy>();
        Assert.True(kv.TryAllocate(child, 1, null, copies, []));
        Assert.Empty(copies);
        Assert.Equal(3, child.Blocks.Count);
    }

    [Fact]
    public void The_longest_cached_prefix_is_found_across_sequences_but_never_the_last_token()
    {
        var kv = new KvCacheManager(new KvBlockPool(16, BlockSize), Model);
        int[] first = Tokens(10);
        var table = Compute(kv, first, []);
        kv.Free(table);

        int[] longer = [.. first, 100, 101, 102, 103, 104];
        var hit = kv.FindCachedPrefix(longer, []);
        Assert.Equal(2, hit.LocalBlocks.Count);
        Assert.Equal(8, hit.NumTokens);

        Assert.Equal(4, kv.FindCachedPrefix(first.AsSpan(0, 8), []).NumTokens); // 8 tokens: the last block must be recomputed
        Assert.Equal(0, kv.FindCachedPrefix(Tokens(10, salt: 1), []).NumTokens);

        int[] divergent = [.. first];
        divergent[5] = 63;
        Assert.Equal(4, kv.FindCachedPrefix(divergent, []).NumTokens);
    }

    [Fact]
    public void Adopting_a_prefix_pins_its_blocks_and_counts_stats()
    {
        var kv = new KvCacheManager(new KvBlockPool(4, BlockSize), Model);
        int[] prompt = Tokens(9);
        kv.Free(Compute(kv, prompt, []));
        Assert.Equal(2, kv.Pool.CachedIdleBlockCount);

        var hashes = new List<BlockHash>();
        var prefix = kv.FindCachedPrefix(prompt, hashes);
        var table = new BlockTable();
        Assert.True(kv.TryAllocate(table, 1, prefix, [], []));
        kv.RecordPrefixQuery(prompt.Length, prefix);
        Assert.Equal(prefix.LocalBlocks, table.Blocks.Take(2));
        Assert.Equal(0, kv.Pool.CachedIdleBlockCount);
        Assert.Equal(9, table.NumTokens);
        Assert.Equal((9L, 8L), (kv.PrefixQueryTokens, kv.PrefixHitTokens));
    }

    [Fact]
    public void Allocation_is_all_or_nothing()
    {
        var kv = new KvCacheManager(new KvBlockPool(3, BlockSize), Model);
        var table = new BlockTable();
        Assert.False(kv.TryAllocate(table, 13, null, [], []));
        Assert.Empty(table.Blocks);
        Assert.Equal(3, kv.Pool.FreeBlockCount);
        Assert.True(kv.TryAllocate(table, 12, null, [], []));
        Assert.False(kv.TryAllocate(table, 1, null, [], []));
        Assert.Equal(12, table.NumTokens);
    }

    [Fact]
    public void Prefix_caching_can_be_disabled()
    {
        var kv = new KvCacheManager(new KvBlockPool(8, BlockSize), Model, enablePrefixCaching: false);
        int[] prompt = Tokens(9);
        kv.Free(Compute(kv, prompt, []));
        Assert.Equal(0, kv.Pool.CachedBlockCount);
        Assert.Equal(0, kv.FindCachedPrefix(prompt, []).NumTokens);
    }

    [Fact]
    public void The_second_tier_is_told_about_computed_blocks_and_supplies_following_blocks()
    {
        var tier = new RecordingTier();
        var kv = new KvCacheManager(new KvBlockPool(8, BlockSize, tier), Model, tier);
        int[] prompt = Tokens(13);
        var hashes = new List<BlockHash>();
        var table = Compute(kv, prompt, hashes);
        Assert.Equal(hashes.Take(3), tier.Computed.Select(c => c.Hash));
        Assert.Equal(table.Blocks.Take(3), tier.Computed.Select(c => c.Block));

        // Another replica: empty local cache, the tier holds the first three blocks.
        var other = new KvCacheManager(new KvBlockPool(8, BlockSize), Model, tier);
        tier.Held.UnionWith(hashes);
        var prefix = other.FindCachedPrefix(prompt, []);
        Assert.Empty(prefix.LocalBlocks);
        Assert.Equal(hashes.Take(3), prefix.RemoteHashes);
        var loads = new List<KvBlockLoad>();
        var remoteTable = new BlockTable();
        Assert.True(other.TryAllocate(remoteTable, 1, prefix, [], loads));
        Assert.Equal(hashes.Take(3), loads.Select(l => l.Hash));
        Assert.Equal(remoteTable.Blocks.Take(3), loads.Select(l => l.Block));
        other.RecordPrefixQuery(prompt.Length, prefix);
        Assert.Equal(12, other.RemoteHitTokens);
        Assert.True(other.Pool.TryGetCachedBlock(hashes[0], out _)); // loaded blocks become local hits
    }
}
