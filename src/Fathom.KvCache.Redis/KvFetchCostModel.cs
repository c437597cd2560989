namespace Fathom.KvCache.Redis;

/// <summary>The measured (or assumed) rates a fetch decision is made from.</summary>
/// <param name="FetchBytesPerSecond">Remote fetch throughput.</param>
/// <param name="FetchOverheadSeconds">Fixed cost of a fetch (round trips, validation setup).</param>
/// <param name="PrefillTokensPerSecond">Local prefill throughput; 0 or less when unknown.</param>
public readonly record struct KvTransferRates(double FetchBytesPerSecond, double FetchOverheadSeconds, double PrefillTokensPerSecond);

/// <summary>What fetching a run of blocks would cost against recomputing it.</summary>
/// <param name="Blocks">Blocks worth fetching (0: skip the fetch).</param>
/// <param name="FetchSeconds">Estimated time to fetch <paramref name="Blocks"/> blocks.</param>
/// <param name="RecomputeSeconds">Estimated time to prefill the same tokens locally (∞ when prefill speed is unknown).</param>
/// <param name="LimitedByTimeout">True when the run was cut to what fits in the fetch timeout.</param>
public readonly record struct KvFetchDecision(int Blocks, double FetchSeconds, double RecomputeSeconds, bool LimitedByTimeout)
{
    /// <summary>Whether any block should be fetched.</summary>
    public bool ShouldFetch => Blocks > 0;
}

/// <summary>
/// The skip rule: fetching n blocks costs <c>overhead + n·bytes/fetchRate</c>, recomputing them costs
/// <c>n·tokens/prefillRate</c>; fetch only when it is faster, and only as many blocks as fit in the timeout.
/// </summary>
public static class KvFetchCostModel
{
    /// <summary>Decides how many of <paramref name="availableBlocks"/> to fetch.</summary>
    /// <param name="availableBlocks">Length of the contiguous run found remotely.</param>
    /// <param name="bytesPerBlock">Bytes transferred per block (value size).</param>
    /// <param name="tokensPerBlock">Tokens per block.</param>
    /// <param name="rates">Current rate estimates.</param>
    /// <param name="timeoutSeconds">Budget of the transfer; blocks beyond it are left to prefill.</param>
    public static KvFetchDecision Decide(
        int availableBlocks, long bytesPerBlock, int tokensPerBlock, KvTransferRates rates, double timeoutSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(availableBlocks);
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerBlock);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerBlock);
        if (availableBlocks == 0 || rates.FetchBytesPerSecond <= 0)
        {
            return new KvFetchDecision(0, 0, 0, false);
        }

        double perBlockFetch = bytesPerBlock / rates.FetchBytesPerSecond;
        double overhead = Math.Max(0, rates.FetchOverheadSeconds);
        int blocks = availableBlocks;
        bool limited = false;
        if (perBlockFetch > 0)
        {
            double fitting = Math.Floor((timeoutSeconds - overhead) / perBlockFetch);
            if (fitting < blocks)
            {
                blocks = (int)Math.Max(0, fitting);
                limited = true;
            }
        }

        double fetch = overhead + (blocks * perBlockFetch);
        double recompute = rates.PrefillTokensPerSecond > 0
            ? (double)blocks * tokensPerBlock / rates.PrefillTokensPerSecond
            : double.PositiveInfinity;
        if (blocks == 0 || fetch >= recompute)
        {
            return new KvFetchDecision(0, fetch, recompute, limited);
        }

        return new KvFetchDecision(blocks, fetch, recompute, limited);
    }

    /// <summary>
    /// The shortest run (in blocks) for which fetching beats recomputing, or null when fetching never wins
    /// (the network is slower per block than prefill).
    /// </summary>
    public static int? BreakEvenBlocks(long bytesPerBlock, int tokensPerBlock, KvTransferRates rates)
    {
        double perBlockFetch = bytesPerBlock / rates.FetchBytesPerSecond;
        double perBlockRecompute = tokensPerBlock / rates.PrefillTokensPerSecond;
        double gain = perBlockRecompute - perBlockFetch;
        if (gain <= 0)
        {
            return null;
        }

        return (int)Math.Floor(Math.Max(0, rates.FetchOverheadSeconds) / gain) + 1;
    }
}
