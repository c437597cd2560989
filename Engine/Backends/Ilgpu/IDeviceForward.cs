using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>A forward step that runs entirely on accelerators: one device (<see cref="IlgpuForward"/>) or several (<see cref="IlgpuTensorParallel"/>).</summary>
internal interface IDeviceForward : IKvBlockStorage, IDisposable
{
    /// <summary>Backend name as reported by the model.</summary>
    string Name { get; }

    /// <summary>Physical KV blocks.</summary>
    int BlockCount { get; }

    /// <summary>Bytes of device KV cache over all devices.</summary>
    long KvCacheBytes { get; }

    /// <summary>How the device memory was shared out, when the KV cache was sized by <c>--gpu-memory-utilization</c>.</summary>
    DeviceMemoryPlan? MemoryPlan { get; }

    /// <summary>Runs the step and copies the logits of the batch's logit rows. // (n_logits, vocab)</summary>
    void Forward(ForwardBatch batch, Span<float> logits);

    /// <summary>Runs the step and returns the greedy token of each logit row.</summary>
    int[] ForwardGreedy(ForwardBatch batch);

    /// <summary>
    /// Runs the step, draws each job's token on the device into <paramref name="tokens"/>, and copies only the logit
    /// rows listed in <paramref name="hostRows"/> (for draws that stay on the host) to their places in <paramref name="logits"/>.
    /// </summary>
    void ForwardSampled(ForwardBatch batch, IReadOnlyList<SamplingJob> jobs, Span<int> tokens, ReadOnlySpan<int> hostRows, Span<float> logits);
}
