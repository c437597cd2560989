using Fathom.Engine.KvCache;

namespace Fathom.Engine.Scheduling;

/// <summary>Limits of an <see cref="EngineHost"/> beyond the scheduler's.</summary>
public sealed record EngineHostOptions
{
    /// <summary>Most requests waiting for admission; more are rejected with <see cref="EngineOverloadedException"/>.</summary>
    public int MaxQueuedRequests { get; init; } = 256;

    /// <summary>The retry hint given with a rejection.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Called with a request (its prompt and cache salt) before it is queued, e.g. to fetch KV blocks from a second
    /// tier into local memory so that <see cref="IKvBlockTier.CountAvailable"/> can offer them without waiting. Null: nothing.
    /// </summary>
    public Func<EngineRequest, CancellationToken, ValueTask>? Prefetch { get; init; }

    /// <summary>
    /// Wraps the model runner the host is given (e.g. by <c>Serving.EngineHostFactory.Create</c>), e.g. to time prefill steps for a second tier's
    /// fetch-or-recompute rule. Null: the runner as is.
    /// </summary>
    public Func<IModelRunner, IModelRunner>? WrapRunner { get; init; }

    /// <summary>
    /// After a forward step failed twice, how long the idle engine waits before it runs a one-token probe step to
    /// find out whether it can serve again (<see cref="EngineHost.IsReady"/>).
    /// </summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Called on the engine loop when a forward step has failed twice and the host stops being
    /// <see cref="EngineHost.IsReady"/> (once per outage), e.g. to log it. Null: nothing.
    /// </summary>
    public Action<Exception>? OnStepFailed { get; init; }

    /// <summary>See <see cref="EngineCore.OverlapConstraintMasks"/> (true: masks are computed while the forward pass runs).</summary>
    public bool OverlapConstraintMasks { get; init; } = true;

    /// <summary>
    /// Test seam: called for each sequence at each <see cref="FaultPoint"/> of a step; throwing from it plays a
    /// fault of that sequence's own work. Null (always, outside tests): nothing.
    /// </summary>
    internal Action<Sequence, FaultPoint>? FaultInjector { get; init; }
}
