using Fathom.Api.Security;

namespace Fathom.Api.Tests.Gateway.Units;

public sealed class TokenWindowsTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task Settling_below_the_charge_returns_the_unused_tokens_to_the_window()
    {
        var windows = new TokenWindows(new Clock());
        var (charge, _) = windows.TryTake("k", 900, 1000, Minute);
        Assert.NotNull(charge);
        Assert.Null(windows.TryTake("k", 900, 1000, Minute).Charge);

        await charge.SettleAsync(100);

        Assert.Equal(100, windows.Used("k"));
        Assert.NotNull(windows.TryTake("k", 900, 1000, Minute).Charge);
    }

    [Fact]
    public async Task Settling_above_the_charge_adds_the_difference()
    {
        var windows = new TokenWindows(new Clock());
        var (charge, _) = windows.TryTake("k", 1000, 300, Minute); // capped at the budget
        Assert.Equal(300, charge!.Charged);

        await charge.SettleAsync(450);

        Assert.Equal(450, windows.Used("k"));
        var (refused, retryAfter) = windows.TryTake("k", 1, 300, Minute);
        Assert.Null(refused);
        Assert.Equal(Minute, retryAfter);
    }

    [Fact]
    public async Task A_refund_after_the_window_turned_over_is_not_given_to_the_next_window()
    {
        var clock = new Clock();
        var windows = new TokenWindows(clock);
        var (charge, _) = windows.TryTake("k", 900, 1000, Minute);
        clock.Now += Minute;
        _ = windows.TryTake("k", 800, 1000, Minute);

        await charge!.SettleAsync(0);

        Assert.Equal(800, windows.Used("k"));
    }

    [Fact]
    public async Task Only_the_first_settlement_counts()
    {
        var windows = new TokenWindows(new Clock());
        var (charge, _) = windows.TryTake("k", 500, 1000, Minute);

        await charge!.SettleAsync(100);
        await charge.SettleAsync(0);

        Assert.Equal(100, windows.Used("k"));
    }
}
