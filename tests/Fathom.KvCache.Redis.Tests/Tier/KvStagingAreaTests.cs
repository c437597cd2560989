using Fathom.Engine.KvCache;
using Fathom.KvCache.Redis.Tier;

namespace Fathom.KvCache.Redis.Tests.Tier;

public sealed class KvStagingAreaTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    [Fact]
    public void A_run_is_staged_in_order_until_the_capacity_and_never_loses_its_own_start()
    {
        var staging = new KvStagingArea(capacityBytes: 300, Lifetime, new ManualTime());

        int staged = staging.Stage(Run(0, 4, bytes: 100));

        Assert.Equal(3, staged);
        Assert.Equal(3, staging.Promise([H(0), H(1), H(2), H(3)]));
        Assert.Equal(300, staging.Bytes);
    }

    [Fact]
    public void Promised_blocks_are_kept_and_unpromised_ones_make_room_oldest_first()
    {
        var time = new ManualTime();
        var staging = new KvStagingArea(capacityBytes: 300, Lifetime, time);
        staging.Stage(Run(0, 3, bytes: 100));
        Assert.Equal(1, staging.Promise([H(0)]));

        Assert.Equal(2, staging.Stage(Run(10, 2, bytes: 100)));

        Assert.True(staging.Contains(H(0)));
        Assert.False(staging.Contains(H(1)));
        Assert.False(staging.Contains(H(2)));
        Assert.Equal(1, staging.Stage(Run(20, 1, bytes: 100)));
        Assert.False(staging.Contains(H(10)));
        Assert.Equal(2, staging.Promise([H(11), H(20)]));
        Assert.Equal(0, staging.Stage(Run(30, 1, bytes: 100))); // everything held: the new run is left to prefill
        Assert.True(staging.TryTake(H(0), out var payload));
        Assert.Equal(100, payload.Length);
        Assert.False(staging.TryTake(H(0), out _));
    }

    [Fact]
    public void Expired_unpromised_blocks_go_and_a_promise_outlives_the_staging_lifetime_only_by_its_own()
    {
        var time = new ManualTime();
        var staging = new KvStagingArea(capacityBytes: 1000, Lifetime, time);
        staging.Stage(Run(0, 2, bytes: 100));
        time.Advance(TimeSpan.FromSeconds(50));
        staging.Promise([H(1)]);
        time.Advance(TimeSpan.FromSeconds(20));

        staging.Stage(Run(10, 1, bytes: 100));

        Assert.False(staging.Contains(H(0))); // 70 s old, never promised
        Assert.True(staging.Contains(H(1)));  // promised 20 s ago
        time.Advance(Lifetime);
        staging.Stage(Run(20, 1, bytes: 100));
        Assert.False(staging.Contains(H(1)));
        Assert.False(staging.Contains(H(10)));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _now;

        public void Advance(TimeSpan by) => _now += by.Ticks;
    }

    private static BlockHash H(int i) => new(0, (UInt128)(i + 1) * 0x9E3779B97F4A7C15UL);

    private static List<(BlockHash, ReadOnlyMemory<byte>)> Run(int first, int count, int bytes) =>
        [.. Enumerable.Range(first, count).Select(i => (H(i), (ReadOnlyMemory<byte>)new byte[bytes]))];
}
