namespace Fathom.KvCache.Redis.Tests.Policy;

public class KvCircuitBreakerTests
{
    private sealed class ManualTime : TimeProvider
    {
        public long Now { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Now;

        public void Advance(TimeSpan by) => Now += by.Ticks;
    }

    [Fact]
    public void Opens_after_k_failures_probes_once_after_the_cooldown_and_closes_on_success()
    {
        var time = new ManualTime();
        var breaker = new KvCircuitBreaker(3, TimeSpan.FromSeconds(5), time);
        breaker.RecordFailure();
        breaker.RecordSuccess(); // consecutive failures only
        breaker.RecordFailure();
        breaker.RecordFailure();
        Assert.True(breaker.TryAcquire());
        breaker.RecordFailure();

        Assert.Equal(KvCircuitState.Open, breaker.State);
        Assert.False(breaker.TryAcquire());
        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(breaker.TryAcquire());
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(breaker.TryAcquire());
        Assert.Equal(KvCircuitState.HalfOpen, breaker.State);
        Assert.False(breaker.TryAcquire()); // one probe at a time

        breaker.RecordFailure(); // the probe failed: open again for a full cooldown
        Assert.Equal(KvCircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(breaker.TryAcquire());
        breaker.RecordSuccess();
        Assert.Equal(KvCircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire());
    }

    [Fact]
    public void An_abandoned_probe_lets_the_next_caller_probe()
    {
        var time = new ManualTime();
        var breaker = new KvCircuitBreaker(1, TimeSpan.FromSeconds(1), time);
        breaker.RecordFailure();
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(breaker.TryAcquire());
        breaker.Abandon();
        Assert.True(breaker.TryAcquire());
    }
}
