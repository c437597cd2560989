using Fathom.Engine.Diagnostics;

namespace Fathom.Engine.Tests.Diagnostics;

/// <summary>The read-bandwidth probe the benchmarks and the planner's calibration divide decode traffic by.</summary>
public sealed class ReadBandwidthProbeTests
{
    [Fact]
    public void Each_thread_count_gets_a_positive_finite_bandwidth_in_order()
    {
        var results = ReadBandwidthProbe.Measure([1, 2], bytes: 64L << 20, passes: 2);
        Assert.Equal([1, 2], results.Select(r => r.Threads));
        Assert.All(results, r => Assert.True(double.IsFinite(r.BytesPerSecond) && r.BytesPerSecond > 1e8, $"{r.Threads} thread(s): {r.BytesPerSecond} B/s"));
    }

    [Fact]
    public void Each_thread_streams_its_own_share_of_at_least_64_MiB()
    {
        Assert.Equal(256L << 20, ReadBandwidthProbe.BytesPerThread(ReadBandwidthProbe.DefaultBytes, 2));
        Assert.Equal(64L << 20, ReadBandwidthProbe.BytesPerThread(ReadBandwidthProbe.DefaultBytes, 16));
        Assert.Equal(64L << 20, ReadBandwidthProbe.BytesPerThread(1L << 20, 1));
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidthProbe.Measure([0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidthProbe.Measure([1], passes: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidthProbe.Measure([1], bytes: 1024));
    }
}
