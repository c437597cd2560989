using Fathom.Engine.KvCache;

namespace Fathom.Engine.Tests.KvCache;

/// <summary>The prefix cache under cache salts: one salt's blocks are never another's hit.</summary>
public sealed class CacheSaltTests
{
    private const int BlockSize = 4;
    private static readonly ModelFingerprint Model = ModelFingerprint.Of("m");
    private static readonly int[] Prompt = [.. Enumerable.Range(100, 13)]; // 3 full blocks before the last token's

    private static void Compute(KvCacheManager kv, string? salt)
    {
        var hashes = new List<BlockHash>();
        var root = BlockHasher.RootFor(salt);
        var table = new BlockTable();
        var prefix = kv.FindCachedPrefix(Prompt, hashes, root);
        Assert.True(kv.TryAllocate(table, Prompt.Length - prefix.NumTokens, prefix, [], []));
        kv.CacheComputedBlocks(table, Prompt, Prompt.Length, hashes, root);
        kv.Free(table);
    }

    private static int CachedTokens(KvCacheManager kv, string? salt) =>
        kv.FindCachedPrefix(Prompt, [], BlockHasher.RootFor(salt)).NumTokens;

    [Fact]
    public void A_prompt_cached_under_one_salt_is_a_miss_under_another_and_without_one()
    {
        var kv = new KvCacheManager(new KvBlockPool(16, BlockSize), Model);
        Compute(kv, "tenant-a");

        Assert.Equal(12, CachedTokens(kv, "tenant-a"));
        Assert.Equal(0, CachedTokens(kv, "tenant-b"));
        Assert.Equal(0, CachedTokens(kv, null));
    }

    [Fact]
    public void An_unsalted_prompt_is_a_miss_for_a_salted_request()
    {
        var kv = new KvCacheManager(new KvBlockPool(16, BlockSize), Model);
        Compute(kv, null);

        Assert.Equal(12, CachedTokens(kv, null));
        Assert.Equal(0, CachedTokens(kv, "tenant-a"));
    }
}
