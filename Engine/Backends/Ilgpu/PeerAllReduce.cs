using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The tensor-parallel all-reduce without the host: every shard's partial output is copied device-to-device into
/// every other shard's scratch, and each shard then sums the <c>T</c> partials in shard order 0…T−1 with one kernel
/// (<see cref="AllReduceKernels"/>) and adds the sum into its residual stream. The order is the host-staged path's,
/// so both paths give bit-identical residuals and every shard's residual stays identical to the others'.
/// </summary>
/// <remarks>
/// ILGPU 1.5 has no cross-stream event wait, so the streams are ordered by one host barrier per all-reduce:
/// (1) shard <c>e</c> pushes its partial into slot <c>e</c> of every other shard's scratch, queued on its own stream
/// behind the projection that wrote it and ahead of the next RMSNorm that overwrites it; (2) the host waits for
/// every stream (each partial has landed everywhere); (3) each shard queues its sum kernel and goes on with the
/// next block without a wait. The scratch alternates between two buffers: the pushes of the next all-reduce may
/// run while a slower shard's sum kernel still reads this one's, and the barrier between them retires that kernel
/// before the buffer comes round again. Peer access is enabled for every ordered pair at construction and
/// disabled on <see cref="Dispose"/>, before the accelerators are.
/// </remarks>
internal sealed class PeerAllReduce : IDisposable
{
    private readonly Accelerator[] _accelerators;
    private readonly AllReduceKernels[] _kernels;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[,] _gathered; // [parity, shard]: (T − 1, capacity) partials of the other shards
    private long _capacity;
    private int _parity;

    private PeerAllReduce(Accelerator[] accelerators)
    {
        _accelerators = accelerators;
        _gathered = new MemoryBuffer1D<float, Stride1D.Dense>?[2, accelerators.Length];
        _kernels = new AllReduceKernels[accelerators.Length];
        for (var d = 0; d < accelerators.Length; d++)
        {
            accelerators[d].Bind();
            _kernels[d] = new AllReduceKernels(accelerators[d]);
        }
    }

    /// <summary>Number of shards.</summary>
    public int ShardCount => _accelerators.Length;

    /// <summary>Floats of scratch each shard holds now: two buffers of <c>T − 1</c> partials of the largest step yet.</summary>
    public long ScratchFloatsPerShard => 2 * (_accelerators.Length - 1) * _capacity;

    /// <summary>
    /// Enables peer access between every ordered pair of <paramref name="accelerators"/> and returns the all-reduce,
    /// or null with <paramref name="reason"/> when some pair cannot access each other (what was enabled is disabled again).
    /// </summary>
    public static PeerAllReduce? TryCreate(IReadOnlyList<Accelerator> accelerators, out string reason)
    {
        ArgumentNullException.ThrowIfNull(accelerators);
        ArgumentOutOfRangeException.ThrowIfLessThan(accelerators.Count, 2);
        var enabled = new List<(Accelerator From, Accelerator To)>();
        try
        {
            for (var a = 0; a < accelerators.Count; a++)
            {
                for (var b = 0; b < accelerators.Count; b++)
                {
                    if (a == b)
                    {
                        continue;
                    }

                    if (!accelerators[a].CanAccessPeer(accelerators[b]) || !accelerators[a].EnablePeerAccess(accelerators[b]))
                    {
                        reason = $"device {a} cannot access device {b}'s memory";
                        Disable(enabled);
                        return null;
                    }

                    enabled.Add((accelerators[a], accelerators[b]));
                }
            }

            reason = "every device can access every other's memory";
            return new PeerAllReduce([.. accelerators]);
        }
        catch (CudaException e)
        {
            // cuCtxEnablePeerAccess can still refuse (e.g. CUDA_ERROR_TOO_MANY_PEERS past 8 peers): host staging works anyway.
            reason = $"enabling peer access failed: {e.Message}";
            Disable(enabled);
            return null;
        }
        catch
        {
            Disable(enabled); // e.g. the kernel failed to load: leave no accelerator pointing at another
            throw;
        }
    }

    /// <summary>
    /// Sums the shards' <paramref name="partials"/> in shard order into each of their <paramref name="residuals"/>
    /// (<paramref name="length"/> floats of each; views on the shards' own accelerators). Returns once every partial
    /// has been copied; the sum kernels are queued, not waited for.
    /// </summary>
    public void Run(IReadOnlyList<ArrayView<float>> partials, IReadOnlyList<ArrayView<float>> residuals, int length)
    {
        var count = _accelerators.Length;
        if (partials.Count != count || residuals.Count != count)
        {
            throw new ArgumentException($"the all-reduce spans {count} shards, not {partials.Count} partials and {residuals.Count} residuals", nameof(partials));
        }

        Reserve(length);
        for (var e = 0; e < count; e++)
        {
            _accelerators[e].Bind();
            var stream = _accelerators[e].DefaultStream;
            var partial = partials[e].SubView(0, length);
            for (var d = 0; d < count; d++)
            {
                if (d != e)
                {
                    // Slot e of shard d (shard d's own partial has no slot): a device-to-device copy on shard e's stream.
                    partial.CopyTo(stream, Slot(d, e, length));
                }
            }
        }

        foreach (var accelerator in _accelerators)
        {
            accelerator.Synchronize();
        }

        for (var d = 0; d < count; d++)
        {
            _accelerators[d].Bind();
            _kernels[d].Sum(_gathered[_parity, d]!.View, partials[d].SubView(0, length), d, count, length, residuals[d].SubView(0, length));
        }

        _parity ^= 1;
    }

    public void Dispose()
    {
        FreeScratch();
        var pairs = new List<(Accelerator, Accelerator)>();
        foreach (var a in _accelerators)
        {
            pairs.AddRange(_accelerators.Where(b => b != a).Select(b => (a, b)));
        }

        Disable(pairs);
    }

    private static void Disable(List<(Accelerator From, Accelerator To)> pairs)
    {
        foreach (var (from, to) in pairs)
        {
            if (!from.IsDisposed && !to.IsDisposed)
            {
                from.DisablePeerAccess(to);
            }
        }
    }

    private void FreeScratch()
    {
        for (var p = 0; p < 2; p++)
        {
            for (var d = 0; d < _accelerators.Length; d++)
            {
                _gathered[p, d]?.Dispose();
                _gathered[p, d] = null;
            }
        }

        _capacity = 0;
    }

    // Where shard `source`'s partial lands on shard `target`: slots in shard order, skipping the target's own.
    private ArrayView<float> Slot(int target, int source, int length) =>
        _gathered[_parity, target]!.View.SubView((long)(source < target ? source : source - 1) * length, length);

    // Both buffers of every shard hold T − 1 partials of `length` floats (grown to the largest step, like the host staging).
    private void Reserve(int length)
    {
        if (length <= _capacity)
        {
            return;
        }

        // The old buffers may still be read by a queued sum kernel: wait before freeing them.
        foreach (var accelerator in _accelerators)
        {
            accelerator.Synchronize();
        }

        FreeScratch();
        var slots = _accelerators.Length - 1;
        for (var d = 0; d < _accelerators.Length; d++)
        {
            _accelerators[d].Bind();
            for (var p = 0; p < 2; p++)
            {
                _gathered[p, d] = _accelerators[d].Allocate1D<float>(slots * (long)length);
            }
        }

        _capacity = length;
    }
}
