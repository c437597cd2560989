namespace Fathom.KvCache.Redis;

/// <summary>How a remote fetch ended.</summary>
public enum KvFetchOutcome
{
    /// <summary>At least the first block was fetched and validated.</summary>
    Hit,

    /// <summary>Redis answered; the first block is absent or was rejected.</summary>
    Miss,

    /// <summary>Redis was not asked: the circuit is open.</summary>
    SkippedCircuitOpen,

    /// <summary>The run exists but fetching it was estimated slower than recomputing it.</summary>
    SkippedSlowerThanRecompute,

    /// <summary>Redis did not answer within the fetch timeout.</summary>
    TimedOut,

    /// <summary>Redis failed (connection lost, error reply).</summary>
    Failed,
}

/// <summary>The longest contiguous run of validated blocks found remotely (possibly empty).</summary>
/// <param name="Outcome">How the fetch ended.</param>
/// <param name="Blocks">Blocks in the order asked for, from the first; empty unless <see cref="KvFetchOutcome.Hit"/>.</param>
/// <param name="Elapsed">Time the call took.</param>
public sealed record KvFetchResult(KvFetchOutcome Outcome, IReadOnlyList<KvBlock> Blocks, TimeSpan Elapsed)
{
    /// <summary>Tokens covered by <see cref="Blocks"/>.</summary>
    public int TokenCount => Blocks.Sum(b => b.TokenCount);
}
