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
    public void Before_any_step_the_budget_is_the_initial_one()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(250), 16);
        Assert.Null(budget.Model());
        Assert.Equal(StepTokenBudget.InitialTokens, budget.TokensFor(8));
        Assert.Equal(StepTokenBudget.InitialTokens, budget.Current);
    }

    [Fact]
    public void Steps_of_several_sizes_give_the_overhead_and_the_per_token_cost()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(250), 16);
        Feed(budget, Linear, 8, 40, 8, 72, 9, 24);
        var (overhead, perToken) = budget.Model()!.Value;
        Assert.Equal(0.020, overhead, 6);
        Assert.Equal(0.001, perToken, 6);

        // (250 ms - 20 ms) / 1 ms per token.
        Assert.InRange(budget.TokensFor(8), 229, 230);
    }

    [Fact]
    public void The_automatic_target_is_three_decode_steps_of_the_running_sequences()
    {
        var budget = new StepTokenBudget(target: null, 16);
        Feed(budget, Linear, 8, 40, 8, 72, 9, 24);

        // 30 decodes: a decode step takes 50 ms, the target is 150 ms, (150 - 20) / 1 = 130 tokens.
        Assert.InRange(budget.TokensFor(30), 129, 130);

        // 8 decodes: 3 × 28 ms = 84 ms, (84 - 20) / 1 = 64 tokens.
        Assert.InRange(budget.TokensFor(8), 63, 64);

        // Nothing decoding: three times the 20 ms overhead, (60 - 20) / 1 = 40 tokens.
        Assert.InRange(budget.TokensFor(0), 39, 40);

        // A faster backend (2 ms a step, 0.1 ms a token) with nothing decoding: the 50 ms floor, (50 - 2) / 0.1 = 480 tokens.
        var fast = new StepTokenBudget(target: null, 16);
        Feed(fast, n => TimeSpan.FromSeconds(0.002 + (0.0001 * n)), 8, 40, 8, 72);
        Assert.InRange(fast.TokensFor(0), 479, 480);
    }

    [Fact]
    public void Steps_of_one_size_charge_the_whole_time_to_the_tokens()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(500), 16);
        Feed(budget, _ => TimeSpan.FromMilliseconds(200), 8, 8, 8);
        Assert.Equal((0, 0.025), budget.Model());
        Assert.Equal(20, budget.TokensFor(8));
    }

    [Fact]
    public void The_budget_stays_between_the_minimum_and_the_maximum()
    {
        var slow = new StepTokenBudget(TimeSpan.FromMilliseconds(100), 16);
        Feed(slow, n => TimeSpan.FromSeconds(n * 0.030), 8, 64, 8);
        Assert.Equal(16, slow.TokensFor(8));

        var fast = new StepTokenBudget(TimeSpan.FromMilliseconds(250), 16);
        Feed(fast, n => TimeSpan.FromSeconds(0.005 + (n * 0.000001)), 8, 512, 8, 2048);
        Assert.Equal(StepTokenBudget.MaximumTokens, fast.TokensFor(8));
    }

    [Fact]
    public void The_budget_follows_a_backend_that_slows_down()
    {
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(250), 16);
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
        var budget = new StepTokenBudget(TimeSpan.FromMilliseconds(250), 16);
        budget.Observe(0, TimeSpan.FromMilliseconds(5));
        budget.Observe(8, TimeSpan.Zero);
        Assert.Equal(0, budget.Observations);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepTokenBudget(TimeSpan.Zero, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepTokenBudget(null, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepTokenBudget(null, StepTokenBudget.MaximumTokens + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SchedulerConfig { StepTimeTarget = TimeSpan.FromMilliseconds(-1) }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SchedulerConfig { MaxNumBatchedTokens = 0 }.Validate());
    }
}
