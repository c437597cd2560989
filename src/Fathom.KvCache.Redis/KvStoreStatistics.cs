namespace Fathom.KvCache.Redis;

/// <summary>Totals since the store was created (the same numbers the metrics report).</summary>
public sealed record KvStoreStatistics
{
    /// <summary>Fetch calls that asked Redis.</summary>
    public long Lookups { get; init; }

    /// <summary>Blocks returned by fetches.</summary>
    public long HitBlocks { get; init; }

    /// <summary>Tokens in the blocks returned by fetches.</summary>
    public long HitTokens { get; init; }

    /// <summary>Bytes read from Redis.</summary>
    public long BytesRead { get; init; }

    /// <summary>Bytes written to Redis.</summary>
    public long BytesWritten { get; init; }

    /// <summary>Blocks written.</summary>
    public long BlocksWritten { get; init; }

    /// <summary>Fetches not made: the circuit was open or fetching was estimated slower than recomputing.</summary>
    public long SkippedFetches { get; init; }

    /// <summary>Fetches that ran out of time.</summary>
    public long TimedOutFetches { get; init; }

    /// <summary>Blocks not written: the queue was full, the circuit was open, or the write failed.</summary>
    public long DroppedWrites { get; init; }

    /// <summary>Stored values refused by validation, by reason.</summary>
    public IReadOnlyDictionary<KvRejectReason, long> Rejected { get; init; } = new Dictionary<KvRejectReason, long>();

    /// <summary>All rejected values.</summary>
    public long RejectedTotal => Rejected.Values.Sum();
}
