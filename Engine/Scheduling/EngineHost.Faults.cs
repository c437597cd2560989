using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

public sealed partial class EngineHost
{
    private volatile bool _ready = true;
    private volatile Exception? _failAllWith;
    private long _nextProbeId;
    private long _lastForwardSteps;

    /// <summary>
    /// False from a forward step that failed twice until a later step (a request's, or a one-token probe the idle
    /// host runs every <see cref="EngineHostOptions.ProbeInterval"/>) succeeds: a readiness check should take the
    /// replica out of rotation meanwhile.
    /// </summary>
    public bool IsReady => _ready;

    /// <summary>
    /// Ends every unfinished request with <paramref name="error"/> at the next turn of the loop (e.g. when a
    /// shutdown's drain time is up); later requests are served as usual.
    /// </summary>
    public void FailUnfinished(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        _failAllWith = error;
        _wake.Release();
    }

    // After a step: track whether the forward pass works (first, so that a caller who sees its request fail also
    // sees the readiness that goes with it), then end the requests whose sequences failed (their other sequences
    // abort with them).
    private void HandleFaults()
    {
        if (_core.StepError is { } error)
        {
            if (_ready)
            {
                _ready = false;
                _options.OnStepFailed?.Invoke(error); // once per outage, not per failed step
            }
        }
        else if (_core.ForwardSteps != _lastForwardSteps)
        {
            _ready = true;
        }

        _lastForwardSteps = _core.ForwardSteps;

        foreach (var fault in _core.Faults)
        {
            if (_requests.TryGetValue(fault.Sequence.RequestId, out var state))
            {
                _core.Abort(state.Request.RequestId);
                FinishRequest(state, nameof(SequenceFailedException), fault.Error);
            }
        }
    }

    // One update's text and stop strings are its own sequence's work: a fault there ends that request only.
    private void DeliverOrFail(RequestState state, SequenceUpdate update, long now)
    {
        try
        {
            _options.FaultInjector?.Invoke(update.Sequence, FaultPoint.Detokenize);
            Deliver(state, update, now);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _core.FinishSequence(update.Sequence.Id, FinishReason.Abort);
            _core.Abort(state.Request.RequestId);
            FinishRequest(state, nameof(SequenceFailedException),
                new SequenceFailedException($"Turning the tokens into text failed: {e.Message}", causedByInput: false, e));
        }
    }

    // A one-token request nobody reads: its step tells whether the model runs again.
    private void Probe()
    {
        var request = new EngineRequest($"probe#{++_nextProbeId}", [0], new SamplingParams { Temperature = 0, MaxTokens = 1 });
        _core.AddRequest(request);
    }

    private void FailAll(Exception error)
    {
        foreach (var state in _requests.Values.ToList())
        {
            _core.Abort(state.Request.RequestId);
            FinishRequest(state, error.GetType().Name, error);
        }
    }
}
