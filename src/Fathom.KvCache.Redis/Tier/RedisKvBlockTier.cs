using System.Collections.Concurrent;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.KvCache.Redis.Tier;

/// <summary>
/// The Redis store as the engine's second prefix-cache tier. Before a request is queued, <see cref="PrefetchAsync(IReadOnlyList{int}, string, CancellationToken)"/>
/// fetches the blocks that follow what the local cache holds and stages them in memory; on admission the engine
/// counts (<see cref="CountAvailable"/>) and loads (<see cref="TryLoad"/>) staged blocks only, so its loop never
/// waits for the network. Blocks computed for the first time — or evicted before they were stored — are copied out
/// and queued to the store's write-behind queue, which drops rather than blocks.
/// </summary>
/// <remarks>
/// The <see cref="IKvBlockTier"/> members run on the engine loop thread; <see cref="PrefetchAsync(IReadOnlyList{int}, string, CancellationToken)"/> may run on
/// any thread, concurrently with them. Payloads are the engine's block layout in its KV dtype (f16, f32 or fp8 e4m3 bytes), little-endian;
/// the dtype is in every value's header and in the model fingerprint, so an engine never loads another dtype's blocks.
/// </remarks>
public sealed class RedisKvBlockTier : IKvBlockTier
{
    private const int MaxRememberedStores = 1 << 16;
    private readonly RedisKvBlockStore _store;
    private readonly IKvBlockStorage _storage;
    private readonly ModelFingerprint _fingerprint;
    private readonly KvModelFingerprint _remoteFingerprint;
    private readonly int _blockSize;
    private readonly int _layerCount;
    private readonly int _payloadBytes;
    private readonly KvBlockDType _dtype;
    private readonly KvBlockShape _shape;
    private readonly KvStagingArea _staging;

    // Mirror of the local prefix cache's keys, readable from prefetch threads (the pool itself is loop-only).
    private readonly ConcurrentDictionary<BlockHash, byte> _local = new();

    // Blocks already queued to or loaded from Redis (loop thread only): not written again when evicted.
    private readonly HashSet<BlockHash> _stored = [];
    private long _prefetches;
    private long _prefetchedBlocks;
    private long _stagingOverflow;
    private long _shapeRejected;
    private long _loadedBlocks;
    private long _writesQueued;

    /// <summary>A tier over <paramref name="store"/> for a model whose KV cache is <paramref name="storage"/>.</summary>
    /// <param name="store">The Redis store (its options size the staging area).</param>
    /// <param name="storage">Block-level access to the model's KV cache.</param>
    /// <param name="fingerprint">The model fingerprint the engine mixes into block keys; also the Redis key's model part.</param>
    /// <param name="blockSize">Tokens per block.</param>
    /// <param name="layerCount">Layers in a block payload.</param>
    /// <param name="time">Clock for staging lifetimes.</param>
    public RedisKvBlockTier(
        RedisKvBlockStore store, IKvBlockStorage storage, ModelFingerprint fingerprint, int blockSize, int layerCount, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        _store = store;
        _storage = storage;
        _fingerprint = fingerprint;
        _remoteFingerprint = new KvModelFingerprint(fingerprint.Value);
        _blockSize = blockSize;
        _layerCount = layerCount;
        _payloadBytes = storage.BlockBytes;
        _dtype = DTypeOf(storage.DataType);
        _shape = new KvBlockShape(layerCount, blockSize, _dtype, _payloadBytes);
        _staging = new KvStagingArea(store.Options.StagingCapacityBytes, store.Options.StagingLifetime, time ?? TimeProvider.System);
    }

    /// <summary>A tier for <paramref name="model"/>'s KV cache, fingerprint and block size.</summary>
    /// <param name="store">The Redis store.</param>
    /// <param name="model">The loaded model.</param>
    public static RedisKvBlockTier For(RedisKvBlockStore store, LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new RedisKvBlockTier(store, model.KvBlocks, model.Fingerprint, model.KvBlockSize, model.HyperParameters.LayerCount);
    }

    /// <summary>The store behind the tier.</summary>
    public RedisKvBlockStore Store => _store;

    /// <summary>What each of the model's blocks looks like in the store (payloads of all layers, in the engine's KV dtype).</summary>
    public KvBlockShape BlockShape => _shape;

    /// <summary>Totals since creation.</summary>
    public KvTierStatistics Statistics => new()
    {
        Prefetches = Interlocked.Read(ref _prefetches),
        PrefetchedBlocks = Interlocked.Read(ref _prefetchedBlocks),
        StagingOverflowBlocks = Interlocked.Read(ref _stagingOverflow),
        ShapeRejectedBlocks = Interlocked.Read(ref _shapeRejected),
        LoadedBlocks = Interlocked.Read(ref _loadedBlocks),
        WritesQueued = Interlocked.Read(ref _writesQueued),
        StagedBlocks = _staging.Count,
        StagedBytes = _staging.Bytes,
    };

    /// <summary>
    /// Call before queueing a request: fetches the longest run of its prompt's full blocks that follows what the
    /// local cache (and the staging area) holds, and stages it for admission. Bounded by the store's fetch timeout;
    /// never throws because of Redis (only <see cref="OperationCanceledException"/> for <paramref name="cancellationToken"/>).
    /// </summary>
    /// <param name="promptTokenIds">The prompt exactly as it will be queued.</param>
    /// <param name="cancellationToken">The request's token.</param>
    public Task<KvPrefetchResult> PrefetchAsync(IReadOnlyList<int> promptTokenIds, CancellationToken cancellationToken = default) =>
        PrefetchAsync(promptTokenIds, cacheSalt: null, cancellationToken);

    /// <summary>As <see cref="PrefetchAsync(IReadOnlyList{int}, CancellationToken)"/>, for a request with a cache salt.</summary>
    /// <param name="promptTokenIds">The prompt exactly as it will be queued.</param>
    /// <param name="cacheSalt">The request's <c>cache_salt</c> (its blocks' keys depend on it); null: none.</param>
    /// <param name="cancellationToken">The request's token.</param>
    public async Task<KvPrefetchResult> PrefetchAsync(IReadOnlyList<int> promptTokenIds, string? cacheSalt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptTokenIds);
        // As KvCacheManager.FindCachedPrefix: never the block holding the last token, whose logits must be computed.
        int maxBlocks = promptTokenIds.Count == 0 ? 0 : (promptTokenIds.Count - 1) / _blockSize;
        if (maxBlocks == 0)
        {
            return new KvPrefetchResult(0, 0, 0, null, TimeSpan.Zero);
        }

        int[] tokens = promptTokenIds as int[] ?? [.. promptTokenIds];
        var hashes = new List<BlockHash>(maxBlocks);
        BlockHasher.ExtendChain(hashes, tokens, _blockSize, maxBlocks, _fingerprint, BlockHasher.RootFor(cacheSalt));
        int local = 0;
        while (local < maxBlocks && _local.ContainsKey(hashes[local]))
        {
            local++;
        }

        int first = local;
        while (first < maxBlocks && _staging.Contains(hashes[first]))
        {
            first++;
        }

        if (first == maxBlocks)
        {
            return new KvPrefetchResult(local, first - local, 0, null, TimeSpan.Zero);
        }

        Interlocked.Increment(ref _prefetches);
        var wanted = hashes.GetRange(first, maxBlocks - first);
        var result = await _store.FetchLongestRunAsync(_remoteFingerprint, _shape, wanted, cancellationToken).ConfigureAwait(false);
        var run = new List<(BlockHash, ReadOnlyMemory<byte>)>(result.Blocks.Count);
        foreach (var block in result.Blocks)
        {
            if (!Fits(block))
            {
                Interlocked.Increment(ref _shapeRejected);
                break;
            }

            run.Add((block.Hash, block.Payload));
        }

        int staged = _staging.Stage(run);
        Interlocked.Add(ref _prefetchedBlocks, staged);
        Interlocked.Add(ref _stagingOverflow, run.Count - staged);
        return new KvPrefetchResult(local, first - local, staged, result.Outcome, result.Elapsed);
    }

    /// <inheritdoc/>
    public int CountAvailable(ReadOnlySpan<BlockHash> hashes) => _staging.Promise(hashes);

    /// <inheritdoc/>
    public bool TryLoad(BlockHash hash, int block, IKvBlockStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (!_staging.TryTake(hash, out var payload))
        {
            return false;
        }

        storage.WriteBlock(block, payload.Span); // (layers, 2, block_size, n_head_kv, head_dim)
        _local[hash] = 0;
        Remember(hash);
        Interlocked.Increment(ref _loadedBlocks);
        return true;
    }

    /// <inheritdoc/>
    public void OnBlockComputed(BlockHash hash, int block)
    {
        _local[hash] = 0;
        if (!_stored.Contains(hash))
        {
            WriteBehind(hash, block);
        }
    }

    /// <inheritdoc/>
    public void OnBlockEvicted(BlockHash hash, int block)
    {
        _local.TryRemove(hash, out _);
        if (!_stored.Contains(hash))
        {
            WriteBehind(hash, block); // e.g. its first write was dropped while Redis was away
        }
    }

    /// <summary>The store's header code for the engine's KV element type.</summary>
    /// <exception cref="NotSupportedException">A type the store has no code for.</exception>
    public static KvBlockDType DTypeOf(KvCacheDataType dataType) => dataType switch
    {
        KvCacheDataType.F32 => KvBlockDType.F32,
        KvCacheDataType.F16 => KvBlockDType.F16,
        KvCacheDataType.Fp8 => KvBlockDType.Fp8E4M3,
        _ => throw new NotSupportedException($"a KV block payload of {dataType} has no store dtype"),
    };

    // The store already rejects other shapes from the header; this guards the copy into the engine's blocks.
    private bool Fits(KvBlock block) => block.Shape == _shape;

    private void WriteBehind(BlockHash hash, int block)
    {
        // A fresh buffer: the store keeps it until the writer has sent it.
        var payload = new byte[_payloadBytes];
        _storage.ReadBlock(block, payload); // (layers, 2, block_size, n_head_kv, head_dim)
        if (_store.TryEnqueue(_remoteFingerprint, new KvBlock(hash, _layerCount, _blockSize, _dtype, payload)))
        {
            Remember(hash);
            Interlocked.Increment(ref _writesQueued);
        }
    }

    private void Remember(BlockHash hash)
    {
        if (_stored.Count >= MaxRememberedStores)
        {
            _stored.Clear(); // forgetting only costs a redundant write on a later eviction
        }

        _stored.Add(hash);
    }
}
