namespace Fathom.KvCache.Redis.Tier;

/// <summary>What a <see cref="RedisKvBlockTier.PrefetchAsync(IReadOnlyList{int}, string, CancellationToken)"/> found for a prompt's leading full blocks.</summary>
/// <param name="LocalBlocks">Leading blocks the local prefix cache holds (not fetched).</param>
/// <param name="AlreadyStagedBlocks">Blocks after those already staged by an earlier prefetch.</param>
/// <param name="FetchedBlocks">Blocks fetched from Redis and staged now.</param>
/// <param name="Outcome">How the fetch ended; null when Redis was not asked (nothing left to fetch).</param>
/// <param name="Elapsed">Time the fetch took.</param>
public sealed record KvPrefetchResult(int LocalBlocks, int AlreadyStagedBlocks, int FetchedBlocks, KvFetchOutcome? Outcome, TimeSpan Elapsed)
{
    /// <summary>Blocks the engine can take from the staging area for this prompt.</summary>
    public int StagedBlocks => AlreadyStagedBlocks + FetchedBlocks;
}
