namespace Fathom.Engine.KvCache;

/// <summary>
/// The physical KV blocks: reference counts, a free list, and the prefix cache (full blocks by
/// <see cref="BlockHash"/>). A cached block whose count drops to zero stays cached and reusable until the pool
/// needs a block and none is plainly free; then the least recently used such block is evicted.
/// </summary>
/// <remarks>Owns ids only; the K/V storage belongs to the model runner. Not thread-safe (engine loop only).</remarks>
public sealed class KvBlockPool
{
    private readonly int[] _refCounts;
    private readonly BlockHash?[] _hashes;
    private readonly Stack<int> _free;
    private readonly LinkedList<int> _evictable = new();
    private readonly LinkedListNode<int>?[] _evictableNodes;
    private readonly Dictionary<BlockHash, int> _cached = [];
    private readonly IKvBlockTier? _tier;

    /// <summary>A pool of <paramref name="totalBlocks"/> blocks of <paramref name="blockSize"/> tokens.</summary>
    /// <param name="totalBlocks">Number of physical blocks (see <see cref="KvCacheSizing.BlocksFor"/>).</param>
    /// <param name="blockSize">Tokens per block.</param>
    /// <param name="tier">Optional second tier told about computed and evicted blocks.</param>
    public KvBlockPool(int totalBlocks, int blockSize = KvCacheSizing.DefaultBlockSize, IKvBlockTier? tier = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalBlocks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        TotalBlocks = totalBlocks;
        BlockSize = blockSize;
        _tier = tier;
        _refCounts = new int[totalBlocks];
        _hashes = new BlockHash?[totalBlocks];
        _evictableNodes = new LinkedListNode<int>?[totalBlocks];
        _free = new Stack<int>(totalBlocks);
        for (int b = totalBlocks - 1; b >= 0; b--)
        {
            _free.Push(b); // block 0 is handed out first
        }
    }

    /// <summary>Number of physical blocks.</summary>
    public int TotalBlocks { get; }

    /// <summary>Tokens per block.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks that are unreferenced and hold nothing cached.</summary>
    public int FreeBlockCount => _free.Count;

    /// <summary>Blocks that are unreferenced but hold a cached prefix block (evictable).</summary>
    public int CachedIdleBlockCount => _evictable.Count;

    /// <summary>Blocks an allocation can obtain: free plus evictable.</summary>
    public int AvailableBlockCount => _free.Count + _evictable.Count;

    /// <summary>Blocks referenced by at least one sequence.</summary>
    public int UsedBlockCount => TotalBlocks - AvailableBlockCount;

    /// <summary>Number of blocks registered in the prefix cache (referenced or not).</summary>
    public int CachedBlockCount => _cached.Count;

    /// <summary>Blocks evicted from the prefix cache so far.</summary>
    public long EvictionCount { get; private set; }

    /// <summary>How many sequences reference <paramref name="block"/>.</summary>
    public int RefCount(int block) => _refCounts[block];

    /// <summary>The prefix-cache key <paramref name="block"/> is registered under, if any.</summary>
    public BlockHash? HashOf(int block) => _hashes[block];

    /// <summary>Whether <paramref name="hash"/> is cached, and in which block.</summary>
    public bool TryGetCachedBlock(BlockHash hash, out int block) => _cached.TryGetValue(hash, out block);

    /// <summary>Takes a block (reference count 1): a plainly free one if any, else evicts the least recently used cached one.</summary>
    /// <exception cref="InvalidOperationException">No block is available; check <see cref="AvailableBlockCount"/> first.</exception>
    public int Allocate()
    {
        int block;
        if (_free.Count > 0)
        {
            block = _free.Pop();
        }
        else if (_evictable.First is { } lru)
        {
            block = lru.Value;
            _evictable.RemoveFirst();
            _evictableNodes[block] = null;
            var hash = _hashes[block]!.Value;
            _tier?.OnBlockEvicted(hash, block);
            _cached.Remove(hash);
            _hashes[block] = null;
            EvictionCount++;
        }
        else
        {
            throw new InvalidOperationException("The KV block pool is exhausted.");
        }

        _refCounts[block] = 1;
        return block;
    }

    /// <summary>Adds a reference (a fork, or a prefix-cache hit, which also takes an idle cached block off the eviction list).</summary>
    public void Retain(int block)
    {
        if (_refCounts[block] == 0)
        {
            var node = _evictableNodes[block]
                ?? throw new InvalidOperationException($"Block {block} is free; only referenced or cached blocks can be retained.");
            _evictable.Remove(node);
            _evictableNodes[block] = null;
        }

        _refCounts[block]++;
    }

    /// <summary>Drops a reference. At zero a cached block becomes the most recently used evictable one; any other block is freed.</summary>
    public void Release(int block)
    {
        if (_refCounts[block] <= 0)
        {
            throw new InvalidOperationException($"Block {block} is released more often than it was referenced.");
        }

        if (--_refCounts[block] > 0)
        {
            return;
        }

        if (_hashes[block] is not null)
        {
            _evictableNodes[block] = _evictable.AddLast(block);
        }
        else
        {
            _free.Push(block);
        }
    }

    /// <summary>
    /// Registers a referenced, full block in the prefix cache under <paramref name="hash"/>. Returns false (and
    /// changes nothing) when the key is already cached in another block or the block already has a key.
    /// </summary>
    public bool Register(int block, BlockHash hash)
    {
        if (_refCounts[block] == 0)
        {
            throw new InvalidOperationException($"Block {block} is not referenced; only blocks in use can be cached.");
        }

        if (_hashes[block] is not null || !_cached.TryAdd(hash, block))
        {
            return false;
        }

        _hashes[block] = hash;
        return true;
    }

    /// <summary>
    /// Takes <paramref name="block"/> out of the prefix cache (its contents cannot be trusted); an idle one becomes
    /// plainly free. Nothing happens to a block that holds no key.
    /// </summary>
    public void Unregister(int block)
    {
        if (_hashes[block] is not { } hash)
        {
            return;
        }

        _cached.Remove(hash);
        _hashes[block] = null;
        if (_evictableNodes[block] is { } node)
        {
            _evictable.Remove(node);
            _evictableNodes[block] = null;
            _free.Push(block);
        }
    }

    /// <summary>Drops every idle cached block (e.g. after a model swap); referenced blocks stay.</summary>
    public void ClearIdleCache()
    {
        while (_evictable.First is { } node)
        {
            int block = node.Value;
            _evictable.RemoveFirst();
            _evictableNodes[block] = null;
            _cached.Remove(_hashes[block]!.Value);
            _hashes[block] = null;
            _free.Push(block);
        }
    }
}
