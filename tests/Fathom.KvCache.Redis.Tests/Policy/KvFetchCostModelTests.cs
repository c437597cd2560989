namespace Fathom.KvCache.Redis.Tests.Policy;

public class KvFetchCostModelTests
{
    // 70B: 320 KiB/token, 16-token blocks = 5 MiB per block.
    private const long Block70B = 5L * 1024 * 1024;

    [Theory]
    [InlineData(10e9 / 8, 2000, false)]   // 10 Gbit/s: 4.2 ms per block vs 8 ms prefill → fetch
    [InlineData(10e9 / 8, 4000, false)]   // 10 Gbit/s: 4.2 ms vs 4 ms → skip
    [InlineData(100e9 / 8, 4000, true)]   // 100 Gbit/s: 0.42 ms vs 4 ms → fetch
    public void Fetch_wins_only_when_the_network_moves_a_block_faster_than_prefill_computes_it(
        double bytesPerSecond, double prefillTokensPerSecond, bool fastNetwork)
    {
        var rates = new KvTransferRates(bytesPerSecond, 0.001, prefillTokensPerSecond);
        var decision = KvFetchCostModel.Decide(100, Block70B, 16, rates, timeoutSeconds: 10);

        double perBlockFetch = Block70B / bytesPerSecond;
        double perBlockPrefill = 16 / prefillTokensPerSecond;
        Assert.Equal(perBlockFetch < perBlockPrefill, decision.ShouldFetch);
        if (fastNetwork)
        {
            Assert.Equal(100, decision.Blocks);
            Assert.True(decision.FetchSeconds < decision.RecomputeSeconds);
        }
    }

    [Fact]
    public void The_run_is_cut_to_what_fits_in_the_timeout()
    {
        var rates = new KvTransferRates(1e9, 0, 100);
        var decision = KvFetchCostModel.Decide(1000, 10_000_000, 16, rates, timeoutSeconds: 0.25);

        Assert.Equal(25, decision.Blocks); // 10 ms per block
        Assert.True(decision.LimitedByTimeout);
        Assert.InRange(decision.FetchSeconds, 0.2499, 0.2501);
    }

    [Fact]
    public void Unknown_prefill_speed_never_skips_and_overhead_makes_short_runs_lose()
    {
        Assert.Equal(3, KvFetchCostModel.Decide(3, 1000, 16, new KvTransferRates(1e9, 0.001, 0), 1).Blocks);

        // Prefill 16 tokens: 1 ms; fetch a block: 0.5 ms + 2 ms overhead → break-even at 5 blocks.
        var rates = new KvTransferRates(2e6, 0.002, 16_000);
        Assert.Equal(5, KvFetchCostModel.BreakEvenBlocks(1000, 16, rates));
        Assert.False(KvFetchCostModel.Decide(4, 1000, 16, rates, 1).ShouldFetch);
        Assert.True(KvFetchCostModel.Decide(5, 1000, 16, rates, 1).ShouldFetch);
        Assert.Null(KvFetchCostModel.BreakEvenBlocks(1_000_000, 16, rates));
    }

    [Fact]
    public void The_estimator_moves_toward_measurements()
    {
        var estimator = new KvRateEstimator(0.5, 1e9, 0.001, 0);
        estimator.ObserveFetch(100_000_000, TimeSpan.FromSeconds(1)); // 1e8 B/s
        Assert.Equal(5.5e8, estimator.Current.FetchBytesPerSecond, 1e3);
        estimator.ObservePrefill(1000, TimeSpan.FromSeconds(1));
        Assert.Equal(1000, estimator.Current.PrefillTokensPerSecond, 1e-6);
        estimator.ObservePrefill(3000, TimeSpan.FromSeconds(1));
        Assert.Equal(2000, estimator.Current.PrefillTokensPerSecond, 1e-6);
        estimator.ObserveFetch(10, TimeSpan.FromSeconds(1)); // too small to measure bandwidth
        Assert.Equal(5.5e8, estimator.Current.FetchBytesPerSecond, 1e3);
    }
}
