using System.Runtime.InteropServices;

namespace Fathom.Engine.KvCache;

/// <summary>
/// Per-sequence KV bookkeeping over a <see cref="KvBlockPool"/>: prefix lookup on admission, slot allocation for
/// a step (with copy-on-write of a shared partially filled block), registration of newly computed full blocks
/// in the prefix cache, forks and frees.
/// </summary>
public sealed class KvCacheManager
{
    private readonly IKvBlockTier? _tier;

    /// <summary>A manager over <paramref name="pool"/>.</summary>
    /// <param name="pool">The physical blocks.</param>
    /// <param name="fingerprint">Identifies the model in every block key.</param>
    /// <param name="tier">Optional second tier consulted after the local prefix lookup.</param>
    /// <param name="enablePrefixCaching">False: never look up or register blocks.</param>
    public KvCacheManager(KvBlockPool pool, ModelFingerprint fingerprint, IKvBlockTier? tier = null, bool enablePrefixCaching = true)
    {
        ArgumentNullException.ThrowIfNull(pool);
        Pool = pool;
        Fingerprint = fingerprint;
        _tier = tier;
        PrefixCachingEnabled = enablePrefixCaching;
    }

    /// <summary>The physical blocks.</summary>
    public KvBlockPool Pool { get; }

    /// <summary>Tokens per block.</summary>
    public int BlockSize => Pool.BlockSize;

    /// <summary>The model fingerprint mixed into block keys.</summary>
    public ModelFingerprint Fingerprint { get; }

    /// <summary>Whether blocks are looked up and registered.</summary>
    public bool PrefixCachingEnabled { get; }

    /// <summary>Fraction of blocks referenced by sequences (0..1).</summary>
    public double Usage => (double)Pool.UsedBlockCount / Pool.TotalBlocks;

    /// <summary>Prompt tokens looked up in the prefix cache on admission.</summary>
    public long PrefixQueryTokens { get; private set; }

    /// <summary>Of <see cref="PrefixQueryTokens"/>, those found cached (local or remote).</summary>
    public long PrefixHitTokens { get; private set; }

    /// <summary>Of <see cref="PrefixHitTokens"/>, those the second tier supplied.</summary>
    public long RemoteHitTokens { get; private set; }

    /// <summary>
    /// The longest cached run of leading full blocks of <paramref name="tokens"/>, never covering the last token
    /// (its logits must be computed). <paramref name="hashes"/> memoizes the sequence's block keys, chained from
    /// <paramref name="root"/> (<see cref="BlockHasher.RootFor"/> the request's cache salt).
    /// </summary>
    public PrefixMatch FindCachedPrefix(ReadOnlySpan<int> tokens, List<BlockHash> hashes, BlockHash root = default)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (!PrefixCachingEnabled || tokens.Length == 0)
        {
            return new PrefixMatch([], [], BlockSize);
        }

        int maxBlocks = (tokens.Length - 1) / BlockSize;
        BlockHasher.ExtendChain(hashes, tokens, BlockSize, maxBlocks, Fingerprint, root);
        var local = new List<int>();
        while (local.Count < maxBlocks && Pool.TryGetCachedBlock(hashes[local.Count], out int block))
        {
            local.Add(block);
        }

        var remote = new List<BlockHash>();
        if (_tier is not null && local.Count < maxBlocks)
        {
            var following = CollectionsMarshal.AsSpan(hashes)[local.Count..maxBlocks];
            int available = Math.Clamp(_tier.CountAvailable(following), 0, following.Length);
            remote.AddRange(following[..available]);
        }

        return new PrefixMatch(local, remote, BlockSize);
    }

    /// <summary>Counts an admission's lookup in the prefix-cache statistics.</summary>
    public void RecordPrefixQuery(int queriedTokens, PrefixMatch match)
    {
        ArgumentNullException.ThrowIfNull(match);
        PrefixQueryTokens += queriedTokens;
        PrefixHitTokens += match.NumTokens;
        RemoteHitTokens += match.RemoteHashes.Count * BlockSize;
    }

    /// <summary>
    /// Makes room in <paramref name="table"/> for <paramref name="numNewTokens"/> tokens after its current
    /// <see cref="BlockTable.NumTokens"/> (after the prefix, when <paramref name="prefix"/> is given for an empty
    /// table). All or nothing: false, with nothing changed, when the pool lacks blocks.
    /// </summary>
    /// <param name="table">The sequence's block table.</param>
    /// <param name="numNewTokens">Tokens to compute this step.</param>
    /// <param name="prefix">A prefix match to adopt (admission only), or null.</param>
    /// <param name="copies">Receives the copy-on-write the runner must perform.</param>
    /// <param name="loads">Receives the second-tier loads the runner must perform.</param>
    public bool TryAllocate(BlockTable table, int numNewTokens, PrefixMatch? prefix, List<BlockCopy> copies, List<KvBlockLoad> loads)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(copies);
        ArgumentNullException.ThrowIfNull(loads);
        ArgumentOutOfRangeException.ThrowIfNegative(numNewTokens);
        if (prefix is not null && table.Blocks.Count != 0)
        {
            throw new InvalidOperationException("A prefix match can only be adopted by an empty block table.");
        }

        int start = prefix?.NumTokens ?? table.NumTokens;
        int end = start + numNewTokens;
        int heldBlocks = table.Blocks.Count + (prefix?.NumBlocks ?? 0);
        int newBlocks = Math.Max(0, ((end + BlockSize - 1) / BlockSize) - heldBlocks);
        bool copyOnWrite = numNewTokens > 0 && start % BlockSize != 0 && Pool.RefCount(table.Blocks[start / BlockSize]) > 1;
        int idleHits = 0;
        if (prefix is not null)
        {
            foreach (int block in prefix.LocalBlocks)
            {
                idleHits += Pool.RefCount(block) == 0 ? 1 : 0;
            }
        }

        int needed = newBlocks + (copyOnWrite ? 1 : 0) + (prefix?.RemoteHashes.Count ?? 0) + idleHits;
        if (needed > Pool.AvailableBlockCount)
        {
            return false;
        }

        var blocks = table.MutableBlocks;
        if (prefix is not null)
        {
            foreach (int block in prefix.LocalBlocks)
            {
                Pool.Retain(block); // pin before allocating, so the hit cannot be evicted below
                blocks.Add(block);
            }

            foreach (var hash in prefix.RemoteHashes)
            {
                int block = Pool.Allocate();
                Pool.Register(block, hash);
                loads.Add(new KvBlockLoad(hash, block));
                blocks.Add(block);
            }

            table.NumRegisteredBlocks = blocks.Count;
        }

        if (copyOnWrite)
        {
            int index = start / BlockSize;
            int shared = blocks[index];
            int copy = Pool.Allocate();
            copies.Add(new BlockCopy(shared, copy));
            Pool.Release(shared);
            blocks[index] = copy;
        }

        for (int i = 0; i < newBlocks; i++)
        {
            blocks.Add(Pool.Allocate());
        }

        table.NumTokens = end;
        return true;
    }

    /// <summary>
    /// Registers the full blocks among the first <paramref name="numComputedTokens"/> tokens (K/V now written)
    /// in the prefix cache, and tells the second tier about blocks computed for the first time. <paramref name="root"/>
    /// is the one the sequence's lookup used.
    /// </summary>
    public void CacheComputedBlocks(BlockTable table, ReadOnlySpan<int> tokens, int numComputedTokens, List<BlockHash> hashes, BlockHash root = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        int fullBlocks = Math.Min(numComputedTokens / BlockSize, table.Blocks.Count);
        if (!PrefixCachingEnabled || fullBlocks <= table.NumRegisteredBlocks)
        {
            return;
        }

        BlockHasher.ExtendChain(hashes, tokens, BlockSize, fullBlocks, Fingerprint, root);
        for (int i = table.NumRegisteredBlocks; i < fullBlocks; i++)
        {
            int block = table.Blocks[i];
            if (Pool.Register(block, hashes[i]))
            {
                _tier?.OnBlockComputed(hashes[i], block);
            }
        }

        table.NumRegisteredBlocks = fullBlocks;
    }

    /// <summary>
    /// Takes the blocks of <paramref name="loads"/> out of the prefix cache: their step failed, so their K/V may
    /// never have been written, and no later request may match them. The second tier is not told (nothing to copy).
    /// </summary>
    public void Forget(IReadOnlyList<KvBlockLoad> loads)
    {
        ArgumentNullException.ThrowIfNull(loads);
        foreach (var load in loads)
        {
            if (Pool.HashOf(load.Block) == load.Hash)
            {
                Pool.Unregister(load.Block);
            }
        }
    }

    /// <summary>
    /// Gives back every block of <paramref name="table"/> and empties it. Tail blocks are released first so that,
    /// among a sequence's cached blocks, the deepest ones are evicted first and shared prefixes last.
    /// </summary>
    public void Free(BlockTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var blocks = table.MutableBlocks;
        for (int i = blocks.Count - 1; i >= 0; i--)
        {
            Pool.Release(blocks[i]);
        }

        blocks.Clear();
        table.NumTokens = 0;
        table.NumRegisteredBlocks = 0;
    }

    /// <summary>Makes <paramref name="child"/> (empty) share all of <paramref name="parent"/>'s blocks; a later write into a shared partial block is copied first.</summary>
    public void Fork(BlockTable parent, BlockTable child)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(child);
        if (child.Blocks.Count != 0)
        {
            throw new InvalidOperationException("A fork target must be an empty block table.");
        }

        foreach (int block in parent.Blocks)
        {
            Pool.Retain(block);
            child.MutableBlocks.Add(block);
        }

        child.NumTokens = parent.NumTokens;
        child.NumRegisteredBlocks = parent.NumRegisteredBlocks;
    }
}
