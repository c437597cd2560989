using Fathom.Engine.Backends.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The peer-to-peer all-reduce on ILGPU CPU accelerators, one context each as the backend opens them (and, to show it
/// does not depend on that, several in one context). CPU accelerators report peer access to each other and copy
/// between each other with <c>memcpy</c>, so the real
/// code path runs — enabling access, the device-to-device copies into each shard's slots, the shard-order sum
/// kernel — but synchronously: the stream ordering it relies on on a GPU is not exercised here.
/// </summary>
public sealed class PeerAllReduceTests
{
    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(4, true)]
    public void Every_shard_gets_the_shard_order_sum_bit_for_bit(int shards, bool oneContext)
    {
        using var devices = new CpuAccelerators(shards, oneContext);
        using var peer = PeerAllReduce.TryCreate(devices.Accelerators, out var reason);
        Assert.NotNull(peer);
        Assert.Equal("every device can access every other's memory", reason);
        Assert.All(devices.Accelerators, a => Assert.All(devices.Accelerators.Where(b => b != a), b => Assert.True(a.HasPeerAccess(b))));

        var random = new Random(24 + shards);
        var orderMatters = false;
        foreach (var length in new[] { 37, 1000, 5, 1000 }) // grows the scratch, reuses it smaller, and runs both halves of the double buffer
        {
            var partials = Enumerable.Range(0, shards).Select(_ => Values(random, length)).ToArray();
            var residual = Values(random, length);
            var expected = new float[length];
            var reversed = new float[length];
            for (var i = 0; i < length; i++)
            {
                // The host-staged path's order: ((p0 + p1) + p2) + …, then added to the residual.
                var sum = partials[0][i];
                var backwards = partials[shards - 1][i];
                for (var d = 1; d < shards; d++)
                {
                    sum += partials[d][i];
                    backwards += partials[shards - 1 - d][i];
                }

                expected[i] = residual[i] + sum;
                reversed[i] = residual[i] + backwards;
            }

            orderMatters |= !Bits(expected).SequenceEqual(Bits(reversed));
            var partialBuffers = devices.Accelerators.Select((a, d) => a.Allocate1D(partials[d])).ToArray();
            var residualBuffers = devices.Accelerators.Select(a => a.Allocate1D(residual)).ToArray();
            peer.Run([.. partialBuffers.Select(b => b.View)], [.. residualBuffers.Select(b => b.View)], length);
            for (var d = 0; d < shards; d++)
            {
                devices.Accelerators[d].Synchronize();
                Assert.Equal(Bits(expected), Bits(residualBuffers[d].GetAsArray1D()));
                Assert.Equal(Bits(partials[d]), Bits(partialBuffers[d].GetAsArray1D())); // the partials are only read
            }

            foreach (var buffer in partialBuffers.Concat(residualBuffers))
            {
                buffer.Dispose();
            }
        }

        // Two partials commute; from three on, the data tells a wrong order from the right one.
        Assert.Equal(shards > 2, orderMatters);
        Assert.Equal(2 * (shards - 1) * 1000L, peer.ScratchFloatsPerShard);
    }

    [Fact]
    public void A_shard_count_mismatch_is_an_argument_error_and_dispose_disables_peer_access()
    {
        using var devices = new CpuAccelerators(2, oneContext: false);
        var peer = PeerAllReduce.TryCreate(devices.Accelerators, out _)!;
        using var buffer = devices.Accelerators[0].Allocate1D<float>(4);
        var e = Assert.Throws<ArgumentException>(() => peer.Run([buffer.View], [buffer.View], 4));
        Assert.Contains("spans 2 shards, not 1 partials", e.Message, StringComparison.Ordinal);
        peer.Dispose();
        Assert.False(devices.Accelerators[0].HasPeerAccess(devices.Accelerators[1]));
        Assert.False(devices.Accelerators[1].HasPeerAccess(devices.Accelerators[0]));
    }

    // Magnitudes from 1e-3 to 1e3 with both signs, so that reassociating the sum changes its rounding.
    private static float[] Values(Random random, int length) =>
        [.. Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 4))))];

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    // Shards of the ilgpu-cpu backend: 4-lane CPU accelerators, one context each as IlgpuDevice.OpenCpu opens them, or all in one.
    private sealed class CpuAccelerators : IDisposable
    {
        private readonly Context[] _contexts;

        public CpuAccelerators(int count, bool oneContext)
        {
            _contexts = [.. Enumerable.Range(0, oneContext ? 1 : count).Select(_ => Context.Create(b => b.CPU(new CPUDevice(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 4, numMultiprocessors: 1))))];
            Accelerators = [.. Enumerable.Range(0, count).Select(d => (Accelerator)_contexts[oneContext ? 0 : d].CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel))];
        }

        public Accelerator[] Accelerators { get; }

        public void Dispose()
        {
            foreach (var accelerator in Accelerators)
            {
                accelerator.Dispose();
            }

            foreach (var context in _contexts)
            {
                context.Dispose();
            }
        }
    }
}
