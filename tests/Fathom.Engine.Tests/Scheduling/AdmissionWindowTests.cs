using System.Diagnostics;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>
/// The idle engine's hold on its first step (<see cref="AdmissionWindow"/>): its length from the learned step model,
/// and on the engine loop, that prompts arriving within it share one step, and that it ends at its end, on an abort
/// and on shutdown.
/// </summary>
public sealed class AdmissionWindowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void The_hold_is_a_tenth_of_the_predicted_step_capped_at_the_maximum()
    {
        var budget = new StepTokenBudget(null);
        Assert.Equal(TimeSpan.FromMilliseconds(50), AdmissionWindow.For(budget, 100, TimeSpan.FromMilliseconds(50))); // nothing timed yet

        budget.Observe(100, TimeSpan.FromSeconds(1.5)); // step = 0.5 s + 10 ms per token
        budget.Observe(300, TimeSpan.FromSeconds(3.5));

        Assert.Equal(0.1 * (0.5 + 0.8), AdmissionWindow.For(budget, 80, TimeSpan.FromSeconds(1)).TotalSeconds, 1e-6); // to the tick
        Assert.Equal(TimeSpan.FromMilliseconds(50), AdmissionWindow.For(budget, 80, TimeSpan.FromMilliseconds(50)));
        Assert.Equal(TimeSpan.Zero, AdmissionWindow.For(budget, 80, TimeSpan.Zero));
        Assert.Equal(TimeSpan.Zero, AdmissionWindow.For(budget, 0, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => AdmissionWindow.For(budget, -1, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => AdmissionWindow.For(budget, 1, TimeSpan.FromMilliseconds(-1)));
    }

    [Fact]
    public void A_negative_maximum_is_refused_by_the_config()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SchedulerConfig { MaxAdmissionWait = TimeSpan.FromMilliseconds(-1) }.Validate());
        Assert.Equal(nameof(SchedulerConfig.MaxAdmissionWait), e.ParamName);
    }

    [Fact]
    public async Task Prompts_that_arrive_within_the_hold_share_the_first_step()
    {
        using var setup = new EngineHostTests.Setup(config: new SchedulerConfig { MaxAdmissionWait = TimeSpan.FromSeconds(1) });
        var first = await setup.Host.SubmitAsync(Greedy(1), Ct);
        await Task.Delay(100, Ct);
        var second = await setup.Host.SubmitAsync(Greedy(2), Ct);

        await DrainAsync(first);
        await DrainAsync(second);

        var batch = setup.Runner.Batches[0];
        Assert.Equal(2, batch.Sequences.Count);
        Assert.Equal(2 * 10, batch.TokenIds.Length); // both prompts, whole
    }

    [Fact]
    public async Task Without_a_hold_the_first_prompt_starts_alone()
    {
        // A hold of ten minutes would keep the step from running within the wait below; zero runs it at once.
        using var setup = new EngineHostTests.Setup(config: new SchedulerConfig { MaxAdmissionWait = TimeSpan.Zero });
        var first = await setup.Host.SubmitAsync(Greedy(1), Ct);
        await WaitForAsync(() => setup.Runner.Steps > 0);
        var second = await setup.Host.SubmitAsync(Greedy(2), Ct);

        await DrainAsync(first);
        await DrainAsync(second);

        Assert.Single(setup.Runner.Batches[0].Sequences);
    }

    [Fact]
    public async Task The_hold_lasts_its_window()
    {
        using var setup = new EngineHostTests.Setup(config: new SchedulerConfig { MaxAdmissionWait = TimeSpan.FromMilliseconds(300) });
        long start = Stopwatch.GetTimestamp();
        var outputs = await setup.Host.SubmitAsync(Greedy(1), Ct);
        await outputs.Outputs.ReadAsync(Ct);

        Assert.True(Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(290), $"the first token came after {Stopwatch.GetElapsedTime(start).TotalMilliseconds} ms");
        await DrainAsync(outputs);
    }

    [Fact]
    public async Task An_abort_ends_the_hold_and_frees_the_request()
    {
        using var setup = new EngineHostTests.Setup(config: new SchedulerConfig { MaxAdmissionWait = TimeSpan.FromMinutes(10) });
        using var cancel = new CancellationTokenSource();
        var outputs = await setup.Host.SubmitAsync(Greedy(1), cancel.Token);
        await Task.Delay(50, Ct);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DrainAsync(outputs).WaitAsync(TimeSpan.FromSeconds(30), Ct));
        await WaitForAsync(() => setup.Host.UnfinishedRequests == 0);
    }

    [Fact]
    public async Task Shutdown_during_the_hold_returns()
    {
        var setup = new EngineHostTests.Setup(config: new SchedulerConfig { MaxAdmissionWait = TimeSpan.FromMinutes(10) });
        var outputs = await setup.Host.SubmitAsync(Greedy(1), Ct);
        await Task.Delay(50, Ct);

        await Task.Run(setup.Dispose, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DrainAsync(outputs));
    }

    private static EngineRequest Greedy(int seed) =>
        new($"r{seed}", EngineHarness.Prompt(seed, 10), new SamplingParams { Temperature = 0, MaxTokens = 3 });

    private static async Task DrainAsync(GenerationOutputs outputs)
    {
        await foreach (var _ in outputs.Outputs.ReadAllAsync(Ct))
        {
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10, Ct);
        }

        Assert.True(condition());
    }
}
