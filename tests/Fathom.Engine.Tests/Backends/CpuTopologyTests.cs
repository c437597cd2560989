using Fathom.Engine.Backends.Cpu;

namespace Fathom.Engine.Tests.Backends;

/// <summary>What the CPU backend reads about the machine (the matmul tiles are sized to the L2 it finds).</summary>
public sealed class CpuTopologyTests
{
    [Theory]
    [InlineData("1024K", 1L << 20)]
    [InlineData("2M", 2L << 20)]
    [InlineData("512", 512L)]
    [InlineData("", null)]
    [InlineData("K", null)]
    [InlineData("-4K", null)]
    [InlineData("big", null)]
    public void Cache_sizes_from_sysfs_parse(string text, long? expected) => Assert.Equal(expected, CpuTopology.ParseSize(text));

    [Fact]
    public void The_L2_size_is_plausible() => Assert.InRange(CpuTopology.L2CacheBytes(), 64L << 10, 64L << 20);
}
