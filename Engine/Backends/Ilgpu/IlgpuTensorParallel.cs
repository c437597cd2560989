using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Megatron-style tensor parallelism over <c>T</c> ILGPU accelerators (see <see cref="TensorParallelShard"/> for
/// the split). The shards run each step in lockstep; after every layer's attention output projection and its
/// <c>ffn_down</c> the partial (n_tokens, n_embd) outputs are all-reduced — summed in shard order, so a run is
/// deterministic — and added to every shard's (replicated) residual stream. Shard 0 alone holds the output matrix
/// and computes the logits.
/// </summary>
/// <remarks>
/// Launches are enqueued on every shard before the first wait, so devices overlap their compute. The exchange is
/// chosen at <see cref="Open"/>: device-to-device (<see cref="PeerAllReduce"/>) when every pair of devices can
/// access each other's memory and <see cref="IlgpuKernelOptions.PeerAllReduce"/> is on, else host-staged: each
/// shard downloads its partial into its own page-locked buffer on its own thread (the copies overlap, and a
/// page-locked copy runs at DMA speed), the host sums them in shard order, and each shard's upload of the sum is
/// queued from its own page-locked buffer without waiting. Both give the same sum, bit for bit; <see cref="Name"/>
/// says which one runs (and why host staging, when it does).
/// </remarks>
internal sealed class IlgpuTensorParallel : IDeviceForward
{
    private readonly IlgpuForward[] _shards;
    private readonly LlamaHyperParameters _hp;
    private readonly int _shardKvHeads;
    private readonly string _hostStagedReason = "";
    private PeerAllReduce? _peer;
    private TensorParallelAllReduce _allReduce = TensorParallelAllReduce.HostStaged;
    private PageLockedArray1D<float>[] _partials = []; // per shard (n_tokens, n_embd): its partial output
    private PageLockedArray1D<float>[] _sums = [];     // per shard (n_tokens, n_embd): the all-reduced output it uploads

    // Slices the model over devices already checked by Validate, taking ownership of them (disposed with this or on failure).
    private IlgpuTensorParallel(IReadOnlyList<IlgpuDevice> devices, LlamaHyperParameters hp, LlamaWeights weights, RopeParameters rope, int blockCount, int blockSize, IProgress<double>? progress, double? memoryUtilization, KvCacheDataType kvDataType, IlgpuKernelOptions options)
    {
        var count = devices.Count;
        _hp = hp;
        _shards = new IlgpuForward[count];
        var created = 0;
        try
        {
            _shardKvHeads = hp.KvHeadCount / count;
            for (; created < count; created++)
            {
                var d = created;
                using var shard = TensorParallelShard.Create(hp, weights, count, d);
                var scaled = progress is null ? null : new Progress(p => progress.Report((d + p) / count));
                // Shard 0 also holds the output matrix, so it has the least room: it sizes the KV cache, the others match it.
                _shards[d] = d == 0
                    ? new IlgpuForward(devices[d], shard.HyperParameters, shard.Weights, rope, blockCount, blockSize, scaled, ownsDevice: true, computesLogits: true, memoryUtilization, kvDataType)
                    : new IlgpuForward(devices[d], shard.HyperParameters, shard.Weights, rope, _shards[0].BlockCount, blockSize, scaled, ownsDevice: true, computesLogits: false, kvDataType: kvDataType);
            }

            if (options.PeerAllReduce)
            {
                _peer = PeerAllReduce.TryCreate([.. _shards.Select(s => s.Accelerator)], out var reason);
                _hostStagedReason = reason;
                _allReduce = _peer is null ? TensorParallelAllReduce.HostStaged : TensorParallelAllReduce.PeerToPeer;
            }
            else
            {
                _hostStagedReason = $"{IlgpuKernelOptions.PeerAllReduceVariable}=0";
            }
        }
        catch
        {
            for (var d = 0; d < count; d++)
            {
                if (d < created)
                {
                    _shards[d].Dispose();
                }
                else
                {
                    devices[d].Dispose();
                }
            }

            throw;
        }
    }

    /// <summary>
    /// Checks that the model splits over <paramref name="count"/> devices, opens devices 1 … count−1 of
    /// <paramref name="kind"/> beside <paramref name="first"/>, and uploads a shard to each. Takes ownership of
    /// <paramref name="first"/> and of every device it opens: disposed with the result, or here on failure.
    /// </summary>
    /// <exception cref="TensorParallelSplitException">The model does not split over that many devices (checked before any other device is opened).</exception>
    /// <exception cref="BackendUnavailableException">Fewer than <paramref name="count"/> devices exist.</exception>
    /// <remarks><paramref name="options"/> (default: <see cref="IlgpuKernelOptions.Current"/>) can turn the peer-to-peer all-reduce off.</remarks>
    public static IlgpuTensorParallel Open(IlgpuDevice first, ComputeBackendKind kind, int count, LlamaHyperParameters hp, LlamaWeights weights, RopeParameters rope, int blockCount, int blockSize, IProgress<double>? progress, double? memoryUtilization = null, KvCacheDataType kvDataType = KvCacheDataType.F32, IlgpuKernelOptions? options = null)
    {
        var devices = new List<IlgpuDevice> { first };
        try
        {
            TensorParallelShard.Validate(hp, weights, count);
            for (var d = 1; d < count; d++)
            {
                devices.Add(IlgpuDevice.Open(kind, d, count));
            }
        }
        catch
        {
            devices.ForEach(device => device.Dispose());
            throw;
        }

        return new IlgpuTensorParallel(devices, hp, weights, rope, blockCount, blockSize, progress, memoryUtilization, kvDataType, options ?? IlgpuKernelOptions.Current);
    }

    /// <summary>Number of accelerators.</summary>
    public int ShardCount => _shards.Length;

    /// <summary>The device, the shard count and the all-reduce, e.g. <c>cuda tp=2 peer-to-peer all-reduce</c> (the service logs it at load).</summary>
    public string Name => _allReduce == TensorParallelAllReduce.PeerToPeer
        ? $"{_shards[0].Name} tp={_shards.Length} peer-to-peer all-reduce"
        : $"{_shards[0].Name} tp={_shards.Length} host-staged all-reduce ({_hostStagedReason})";

    /// <summary>The shards, in shard order (tests read their residual streams).</summary>
    internal IReadOnlyList<IlgpuForward> Shards => _shards;

    /// <summary>The all-reduce the steps run.</summary>
    internal TensorParallelAllReduce AllReduce => _allReduce;

    /// <summary>
    /// Switches the all-reduce for the following steps (tests compare both on one model): peer-to-peer enables peer
    /// access first, when it was not chosen at <see cref="Open"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Peer-to-peer was asked for and some pair of devices cannot access each other.</exception>
    internal void UseAllReduce(TensorParallelAllReduce allReduce)
    {
        if (allReduce == TensorParallelAllReduce.PeerToPeer && _peer is null)
        {
            _peer = PeerAllReduce.TryCreate([.. _shards.Select(s => s.Accelerator)], out var reason)
                ?? throw new InvalidOperationException($"no peer-to-peer all-reduce: {reason}");
        }

        _allReduce = allReduce;
    }

    public int BlockCount => _shards[0].BlockCount;

    public long KvCacheBytes => _shards.Sum(s => s.KvCacheBytes);

    /// <summary>Shard 0's memory plan (it sized every shard's cache), when sized by <c>--gpu-memory-utilization</c>.</summary>
    public DeviceMemoryPlan? MemoryPlan => _shards[0].MemoryPlan;

    /// <summary>Floats in one block payload of the whole model. // (layers, 2, block_size, n_head_kv, head_dim)</summary>
    public int BlockFloats => _shards.Sum(s => s.BlockFloats);

    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        Step(batch);
        _shards[0].CopyLogits(batch.LogitTokenIndices.Length, logits);
    }

    public int[] ForwardGreedy(ForwardBatch batch)
    {
        Step(batch);
        return _shards[0].GreedyTokens(batch.LogitTokenIndices.Length);
    }

    public void ForwardSampled(ForwardBatch batch, IReadOnlyList<SamplingJob> jobs, Span<int> tokens, ReadOnlySpan<int> hostRows, Span<float> logits)
    {
        Step(batch);
        _shards[0].SampleTokens(jobs, tokens);
        _shards[0].CopyLogitRows(hostRows, logits);
    }

    /// <summary>Payloads are each shard's: f32 for an f16 cache, e4m3 bytes for an fp8 cache.</summary>
    public KvCacheDataType DataType => _shards[0].DataType;

    public int BlockBytes => BlockFloats * KvCacheDataTypes.SizeOf(DataType);

    public void ReadBlock(int block, Span<byte> destination)
    {
        CheckPayload(destination.Length);
        var part = new byte[_shards[0].BlockBytes]; // (layers, 2, block_size, n_head_kv / T, head_dim)
        var (rows, run, fullRow) = Runs();
        for (var d = 0; d < _shards.Length; d++)
        {
            _shards[d].ReadBlock(block, part);
            for (var r = 0; r < rows; r++)
            {
                part.AsSpan(r * run, run).CopyTo(destination.Slice((r * fullRow) + (d * run), run));
            }
        }
    }

    public void WriteBlock(int block, ReadOnlySpan<byte> source)
    {
        CheckPayload(source.Length);
        var part = new byte[_shards[0].BlockBytes]; // (layers, 2, block_size, n_head_kv / T, head_dim)
        var (rows, run, fullRow) = Runs();
        for (var d = 0; d < _shards.Length; d++)
        {
            for (var r = 0; r < rows; r++)
            {
                source.Slice((r * fullRow) + (d * run), run).CopyTo(part.AsSpan(r * run, run));
            }

            _shards[d].WriteBlock(block, part);
        }
    }

    /// <summary>Reads an f16 cache's block as f32.</summary>
    public void ReadBlock(int block, Span<float> destination) => ReadBlock(block, MemoryMarshal.AsBytes(destination));

    /// <summary>Writes an f16 cache's block from f32.</summary>
    public void WriteBlock(int block, ReadOnlySpan<float> source) => WriteBlock(block, MemoryMarshal.AsBytes(source));

    public void CopyBlock(int source, int destination)
    {
        foreach (var shard in _shards)
        {
            shard.CopyBlock(source, destination);
        }
    }

    public void Dispose()
    {
        _peer?.Dispose(); // disables peer access while every accelerator is still alive
        foreach (var shard in _shards)
        {
            shard?.Dispose();
        }

        DisposeStaging();
    }

    private void Step(ForwardBatch batch)
    {
        var length = batch.Count * _hp.EmbeddingLength;
        var peer = _allReduce == TensorParallelAllReduce.PeerToPeer ? _peer : null;
        if (peer is null && (_sums.Length == 0 || _sums[0].Length < length))
        {
            DisposeStaging();
            _partials = [.. _shards.Select(s => s.Accelerator.AllocatePageLocked1D<float>(length))];
            _sums = [.. _shards.Select(s => s.Accelerator.AllocatePageLocked1D<float>(length))];
        }

        foreach (var shard in _shards)
        {
            shard.BeginStep(batch);
        }

        for (var l = 0; l < _hp.LayerCount; l++)
        {
            foreach (var shard in _shards)
            {
                shard.AttentionBlock(l, partial: true);
            }

            SumPartials(peer, length); // all-reduce 1: attention output projection
            foreach (var shard in _shards)
            {
                shard.FeedForwardBlock(l, partial: true);
            }

            SumPartials(peer, length); // all-reduce 2: ffn_down
        }

        foreach (var shard in _shards)
        {
            shard.FinishStep(batch);
        }
    }

    // Sum of the shards' partial outputs in shard order (fixed, so deterministic), added to each residual: device to
    // device, or host-staged. There every shard's download waits on its stream, which also retires its previous
    // upload from _sums: only then are the sums rewritten.
    private void SumPartials(PeerAllReduce? peer, int length)
    {
        if (peer is not null)
        {
            peer.Run([.. _shards.Select(s => s.PartialOutput)], [.. _shards.Select(s => s.ResidualStream)], length);
            return;
        }

        Parallel.For(0, _shards.Length, d => _shards[d].DownloadPartial(_partials[d].Span[..length]));
        var sum = _sums[0].Span[..length];
        TensorPrimitives.Add(_partials[0].Span[..length], _partials[1].Span[..length], sum);
        for (var d = 2; d < _shards.Length; d++)
        {
            TensorPrimitives.Add(sum, _partials[d].Span[..length], sum);
        }

        Parallel.For(1, _shards.Length, d => _sums[0].Span[..length].CopyTo(_sums[d].Span));
        for (var d = 0; d < _shards.Length; d++)
        {
            _shards[d].AddToResidual(_sums[d]);
        }
    }

    private void DisposeStaging()
    {
        foreach (var buffer in _partials.Concat(_sums))
        {
            buffer.Dispose();
        }

        _partials = [];
        _sums = [];
    }

    // A block payload as rows of (layer, K/V, position); each row holds one shard's KV heads as a contiguous run (bytes).
    private (int Rows, int Run, int FullRow) Runs()
    {
        var run = _shardKvHeads * _hp.HeadDimension * KvCacheDataTypes.SizeOf(DataType); // bytes of one position's heads on a shard
        return (2 * _hp.LayerCount * _shards[0].BlockSize, run, run * _shards.Length);
    }

    private void CheckPayload(int bytes)
    {
        if (bytes != BlockBytes)
        {
            throw new ArgumentException($"a block payload is {BlockBytes} bytes, not {bytes}", nameof(bytes));
        }
    }

    private sealed class Progress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
