namespace Fathom.KvCache.Redis.Tier;

/// <summary>Totals of a <see cref="RedisKvBlockTier"/> since creation (the store's own are in <see cref="RedisKvBlockStore.Statistics"/>).</summary>
public sealed record KvTierStatistics
{
    /// <summary>Prefetches that asked the store.</summary>
    public long Prefetches { get; init; }

    /// <summary>Blocks fetched and staged.</summary>
    public long PrefetchedBlocks { get; init; }

    /// <summary>Fetched blocks not staged because the staging area was full of promised blocks.</summary>
    public long StagingOverflowBlocks { get; init; }

    /// <summary>Fetched blocks whose shape (dtype, layers, tokens, size) did not match this engine's KV blocks.</summary>
    public long ShapeRejectedBlocks { get; init; }

    /// <summary>Staged blocks loaded into the KV cache (remote hits the engine used).</summary>
    public long LoadedBlocks { get; init; }

    /// <summary>Blocks copied out and queued to the write-behind store.</summary>
    public long WritesQueued { get; init; }

    /// <summary>Blocks staged now.</summary>
    public int StagedBlocks { get; init; }

    /// <summary>Bytes staged now.</summary>
    public long StagedBytes { get; init; }
}
