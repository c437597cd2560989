using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The device half of the peer-to-peer tensor-parallel all-reduce (<see cref="PeerAllReduce"/>): one shard's sum of
/// every shard's partial output, in shard order, added into its residual stream.
/// </summary>
internal sealed class AllReduceKernels
{
    private readonly int _groupSize;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>> _sum;

    public AllReduceKernels(Accelerator accelerator)
    {
        _groupSize = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        _sum = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>(ShardSumKernel);
    }

    /// <summary>
    /// residual[i] += ((p₀[i] + p₁[i]) + p₂[i]) + … + p_{T−1}[i], where p_self is <paramref name="own"/> and the other
    /// shards' partials sit in <paramref name="gathered"/> in shard order without the own slot. The shard order is
    /// fixed, so every shard computes the bit-identical sum — the same sum the host-staged path computes — and the
    /// replicated residual streams stay equal. // gathered (shards − 1, count); own, residual (count)
    /// </summary>
    internal static void ShardSumKernel(ArrayView<float> gathered, ArrayView<float> own, int self, int shards, int count, ArrayView<float> residual)
    {
        var i = Grid.GlobalIndex.X;
        if (i >= count)
        {
            return;
        }

        var sum = 0f;
        for (var d = 0; d < shards; d++)
        {
            var partial = d == self ? own[i] : gathered[((long)(d < self ? d : d - 1) * count) + i];
            sum = d == 0 ? partial : sum + partial; // not 0 + p₀: −0 stays −0, as on the host
        }

        residual[i] += sum;
    }

    /// <summary>Queues <see cref="ShardSumKernel"/> on the accelerator's default stream (bind the accelerator first).</summary>
    public void Sum(ArrayView<float> gathered, ArrayView<float> own, int self, int shards, int count, ArrayView<float> residual) =>
        _sum(new KernelConfig(Math.Max(1, (count + _groupSize - 1) / _groupSize), _groupSize), gathered, own, self, shards, count, residual);
}
