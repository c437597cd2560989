namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>How <see cref="IlgpuTensorParallel"/> sums the shards' partial outputs.</summary>
internal enum TensorParallelAllReduce
{
    /// <summary>Downloaded to page-locked host memory, summed on the host in shard order, uploaded to every shard.</summary>
    HostStaged,

    /// <summary>Copied device to device into every shard, summed there in shard order by one kernel (<see cref="PeerAllReduce"/>).</summary>
    PeerToPeer,
}
