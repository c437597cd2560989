using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>The learned per-step token budget, fed made-up step timings.</summary>
public sealed class StepTokenBudgetTests
{
    // A backend whose step costs 20 ms plus 1 ms per token.
    private static TimeSpan Linear(int tokens) => TimeSpan.FromSeconds(0.020 + (0.001 * tokens));

    private static void Feed(StepTokenBudget budget, Func<int, TimeSpan> cost, params int[] sizes)
    {
        foreach (int n in sizes)
        {
            budget.Observe(n, cost(n));
        }
    }

    [Fact]
    public void Before_any_step_nothing_decoding_gets_the_maximum_and_decodes_the_initial_prefill()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(250));
        Assert.Null(budget.Model());
        Assert.Equal(StepTokenBudget.MaximumTokens, budget.TokensFor(0));
        Assert.Equal(8 + StepTokenBudget.InitialTokens, budget.TokensFor(8));
        Assert.Equal(8 + StepTokenBudget.InitialTokens, budget.Current);
        Assert.Null(budget.CurrentTarget);
    }

    [Fact]
    public void Steps_of_several_sizes_give_the_overhead_and_the_per_token_cost()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(250));
        Feed(budget, Linear, 8, 40, 8, 72, 9, 24);
        var (overhead, perToken) = budget.Model()!.Value;
        Assert.Equal(0.020, overhead, 6);
        Assert.Equal(0.001, perToken, 6);

        // (250 ms - 20 ms) / 1 ms per token.
        Assert.InRange(budget.TokensFor(8), 229, 230);
        Assert.Equal(TimeSpan.FromMilliseconds(250), budget.CurrentTarget);
    }

    [Fact]
    public void The_automatic_target_is_two_decode_steps_of_the_running_sequences_and_at_least_50_ms()
    {
        var budget = new StepTokenBudget(target: null);
        Feed(budget, Linear, 8, 40, 8, 72, 9, 24);

        // 30 decodes: a decode step takes 50 ms, the target is 100 ms, (100 - 20) / 1 = 80 tokens.
        Assert.InRange(budget.TokensFor(30), 79, 80);
        Assert.Equal(100, budget.CurrentTarget!.Value.TotalMilliseconds, 3);

        // 8 decodes: 2 × 28 ms = 56 ms, (56 - 20) / 1 = 36 tokens.
        Assert.InRange(budget.TokensFor(8), 35, 36);

        // 1 decode: 2 × 21 ms = 42 ms is below the 50 ms floor, (50 - 20) / 1 = 30 tokens.
        Assert.InRange(budget.TokensFor(1), 29, 30);

        // Nothing decoding: no inter-token gap to protect, the largest step.
        Assert.Equal(StepTokenBudget.MaximumTokens, budget.TokensFor(0));
        Assert.Null(budget.CurrentTarget);

        // A faster backend (2 ms a step, 0.1 ms a token) with one decode: the 50 ms floor, (50 - 2) / 0.1 = 480 tokens.
        var fast = new StepTokenBudget(target: null);
        Feed(fast, n => TimeSpan.FromSeconds(0.002 + (0.0001 * n)), 8, 40, 8, 72);
        Assert.InRange(fast.TokensFor(1), 479, 480);
    }

    [Fact]
    public void The_decode_step_multiple_is_configurable()
    {
        var budget = new StepTokenBudget(target: null, decodeStepMultiple: 3);
        Feed(budget, Linear, 8, 40, 8, 72, 9, 24);

        // 8 decodes: 3 × 28 ms = 84 ms, (84 - 20) / 1 = 64 tokens.
        Assert.InRange(budget.TokensFor(8), 63, 64);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(30)]
    [InlineData(64)]
    public void With_decodes_running_a_step_of_the_budget_stays_within_the_target(int decoding)
    {
        // A CPU-like backend: 20 ms to stream the weights, 5 ms a token; and a GPU-like one, 4 ms and 0.02 ms.
        foreach (var cost in new Func<int, TimeSpan>[] { n => TimeSpan.FromSeconds(0.020 + (0.005 * n)), n => TimeSpan.FromSeconds(0.004 + (0.00002 * n)) })
        {
            var budget = new StepTokenBudget(target: null);
            Feed(budget, cost, 1, 128, 8, 1, 30, 8, 8, 17);
            int tokens = budget.TokensFor(decoding);
            double decodeOnly = cost(decoding).TotalSeconds;
            double target = Math.Max(StepTokenBudget.MinimumAutoTarget.TotalSeconds, 2 * decodeOnly);
            Assert.True(tokens > decoding, $"no prefill room at {decoding} decodes");
            Assert.True(cost(tokens).TotalSeconds <= target + 1e-9, $"{tokens} tokens take {cost(tokens).TotalMilliseconds} ms, over the {target * 1000} ms target");
            // The fit is exact but for rounding, which may cost a token where the target falls on a whole number of them.
            int more = tokens + 2 + (tokens / 1000);
            Assert.True(cost(more).TotalSeconds > target || tokens == StepTokenBudget.MaximumTokens, $"{tokens} tokens leave room unused under the {target * 1000} ms target");
        }
    }

    [Fact]
    public void A_target_below_the_decodes_alone_still_lets_every_decode_and_one_prefill_token_run()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(30));
        Feed(budget, Linear, 8, 40, 8, 72);

        // 16 decodes alone take 36 ms.
        Assert.Equal(17, budget.TokensFor(16));
    }

    [Fact]
    public void Steps_of_one_size_charge_the_whole_time_to_the_tokens()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(500));
        Feed(budget, _ => TimeSpan.FromMilliseconds(200), 8, 8, 8);
        Assert.Equal((0, 0.025), budget.Model());
        Assert.Equal(20, budget.TokensFor(8));
    }

    [Fact]
    public void The_budget_stays_between_the_decodes_plus_one_and_the_maximum()
    {
        var slow = new StepTokenBudget(TimeSpan.FromMilliseconds(100));
        Feed(slow, n => TimeSpan.FromSeconds(n * 0.030), 8, 64, 8);
        Assert.Equal(9, slow.TokensFor(8));

        var fast = new StepTokenBudget(TimeSpan.FromMilliseconds(250));
        Feed(fast, n => TimeSpan.FromSeconds(0.005 + (n * 0.000001)), 8, 512, 8, 2048);
        Assert.Equal(StepTokenBudget.MaximumTokens, fast.TokensFor(8));
    }

    [Fact]
    public void The_budget_follows_a_backend_that_slows_down()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(250));
        Feed(budget, Linear, 8, 40, 8, 72, 9, 24);
        int before = budget.TokensFor(8);

        // Now every token costs 4 ms (e.g. other work took the cores): the old steps fade out.
        for (int i = 0; i < 40; i++)
        {
            int n = i % 2 == 0 ? 8 : 40;
            budget.Observe(n, TimeSpan.FromSeconds(0.020 + (0.004 * n)));
        }

        int after = budget.TokensFor(8);
        Assert.InRange(before, 229, 230);
        Assert.InRange(after, 56, 58); // (250 - 20) / 4 = 57.5
    }

    [Fact]
    public void Empty_or_timeless_steps_are_ignored_and_bad_settings_rejected()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(250));
        budget.Observe(0, TimeSpan.FromMilliseconds(5));
        budget.Observe(8, TimeSpan.Zero);
        Assert.Equal(0, budget.Observations);
        Assert.Throws<ArgumentOutOfRangeException>(() => budget.TokensFor(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepTokenBudget(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepTokenBudget(null, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepTokenBudget(null, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepTokenBudget(null, double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SchedulerConfig { StepTimeTarget = TimeSpan.FromMilliseconds(-1) }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SchedulerConfig { StepTimeDecodeMultiple = 0.9 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SchedulerConfig { MaxNumBatchedTokens = 0 }.Validate());
    }
}
