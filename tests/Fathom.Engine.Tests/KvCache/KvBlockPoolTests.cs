using Fathom.Engine.KvCache;

namespace Fathom.Engine.Tests.KvCache;

public sealed class KvBlockPoolTests
{
    private static readonly ModelFingerprint Model = ModelFingerprint.Of("m");

    private static BlockHash Key(int i) => BlockHasher.Hash(BlockHash.Root, [i], Model);

    [Theory]
    [InlineData(1L << 30, 128 * 1024, 16, 512)]
    [InlineData(1000, 10, 16, 6)]
    [InlineData(159, 10, 16, 0)]
    public void BlocksFor_divides_the_budget_by_the_block_bytes(long budget, long bytesPerToken, int blockSize, int expected) =>
        Assert.Equal(expected, KvCacheSizing.BlocksFor(budget, bytesPerToken, blockSize));

    [Fact]
    public void BlocksFor_rejects_non_positive_inputs()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KvCacheSizing.BlocksFor(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => KvCacheSizing.BlocksFor(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KvCacheSizing.BlocksFor(1, 1, 0));
    }

    [Fact]
    public void Allocation_and_release_account_for_every_block()
    {
        var pool = new KvBlockPool(4, 16);
        var taken = Enumerable.Range(0, 4).Select(_ => pool.Allocate()).ToList();
        Assert.Equal([0, 1, 2, 3], taken.Order());
        Assert.Equal(0, pool.AvailableBlockCount);
        Assert.Equal(4, pool.UsedBlockCount);
        Assert.Throws<InvalidOperationException>(() => pool.Allocate());

        pool.Retain(taken[1]);
        Assert.Equal(2, pool.RefCount(taken[1]));
        pool.Release(taken[1]);
        Assert.Equal(0, pool.AvailableBlockCount);
        foreach (int b in taken)
        {
            pool.Release(b);
        }

        Assert.Equal(4, pool.FreeBlockCount);
        Assert.Throws<InvalidOperationException>(() => pool.Release(taken[0]));
        Assert.Throws<InvalidOperationException>(() => pool.Retain(taken[0]));
    }

    [Fact]
    public void An_unreferenced_cached_block_stays_reusable_until_evicted()
    {
        var pool = new KvBlockPool(2, 16);
        int block = pool.Allocate();
        Assert.True(pool.Register(block, Key(1)));
        pool.Release(block);
        Assert.Equal(1, pool.CachedIdleBlockCount);
        Assert.Equal(2, pool.AvailableBlockCount);

        Assert.True(pool.TryGetCachedBlock(Key(1), out int hit));
        Assert.Equal(block, hit);
        pool.Retain(hit);
        Assert.Equal(0, pool.CachedIdleBlockCount);
        Assert.Equal(1, pool.RefCount(hit));
    }

    [Fact]
    public void Plain_free_blocks_are_used_before_evicting_and_eviction_is_least_recently_used_first()
    {
        var tier = new RecordingTier();
        var pool = new KvBlockPool(4, 16, tier);
        int[] blocks = [pool.Allocate(), pool.Allocate(), pool.Allocate()];
        for (int i = 0; i < 3; i++)
        {
            pool.Register(blocks[i], Key(i));
        }

        pool.Release(blocks[0]);
        pool.Release(blocks[1]);
        pool.Release(blocks[2]);
        pool.Retain(blocks[0]); // a hit refreshes block 0: it leaves the LRU and re-enters last
        pool.Release(blocks[0]);

        int fresh = pool.Allocate();
        Assert.Null(pool.HashOf(fresh)); // the never-cached block goes first
        Assert.Equal(0, pool.EvictionCount);

        Assert.Equal(blocks[1], pool.Allocate());
        Assert.Equal(blocks[2], pool.Allocate());
        Assert.Equal(blocks[0], pool.Allocate());
        Assert.Equal([Key(1), Key(2), Key(0)], tier.Evicted.Select(e => e.Hash));
        Assert.False(pool.TryGetCachedBlock(Key(1), out _));
        Assert.Equal(3, pool.EvictionCount);
    }

    [Fact]
    public void A_key_is_cached_in_one_block_only()
    {
        var pool = new KvBlockPool(2, 16);
        int a = pool.Allocate();
        int b = pool.Allocate();
        Assert.True(pool.Register(a, Key(7)));
        Assert.False(pool.Register(b, Key(7)));
        Assert.False(pool.Register(a, Key(8)));
        pool.Release(b);
        Assert.Equal(1, pool.FreeBlockCount); // the duplicate was never cached, so it is plainly free
    }
}
