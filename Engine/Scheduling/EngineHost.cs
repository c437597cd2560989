using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Fathom.Engine.Diagnostics;
using Fathom.Engine.KvCache;
using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// Serves an <see cref="EngineCore"/> to many concurrent callers: a dedicated thread runs the steps while callers
/// submit requests and read their tokens, detokenized and checked for stop strings, from per-request channels.
/// Cancelling a request aborts its sequences at the next step and returns their KV blocks. A bounded waiting
/// queue turns overload into <see cref="EngineOverloadedException"/>. A fault of one sequence ends its request
/// alone with <see cref="SequenceFailedException"/>; a forward step that fails twice fails its own sequences and
/// makes the host not <see cref="IsReady"/> until a step succeeds again.
/// </summary>
public sealed partial class EngineHost : IDisposable
{
    private readonly EngineCore _core;
    private readonly Tokenizer _tokenizer;
    private readonly EngineHostOptions _options;
    private readonly EngineMetrics? _metrics;
    private readonly ConcurrentDictionary<string, RequestState> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _aborts = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _loop;
    private readonly Dictionary<long, SequenceState> _sequences = [];
    private volatile bool _stopping;
    private volatile int _runningRequests;
    private int _unfinishedRequests;
    private long _nextRequestId;
    private long _reportedQueries;
    private long _reportedHits;
    private int _reportedRunning;

    /// <summary>A host over its own scheduler on <paramref name="kvCache"/> and <paramref name="runner"/>.</summary>
    /// <param name="config">Scheduler limits (EOG ids included).</param>
    /// <param name="kvCache">The KV block manager.</param>
    /// <param name="runner">The model runner.</param>
    /// <param name="tokenizer">Turns tokens into text for the outputs and stop strings.</param>
    /// <param name="options">Queue limit, retry hint and prefetch seam; defaults if null.</param>
    /// <param name="metrics">Where to record metrics; null records none.</param>
    public EngineHost(SchedulerConfig config, KvCacheManager kvCache, IModelRunner runner, Tokenizer tokenizer, EngineHostOptions? options = null, EngineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _options = options ?? new EngineHostOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxQueuedRequests);
        _metrics = metrics;
        _core = new EngineCore(new Scheduler(config, kvCache), runner) { FaultInjector = _options.FaultInjector, OverlapConstraintMasks = _options.OverlapConstraintMasks };
        _loop = new Thread(Run) { IsBackground = true, Name = "Fathom engine loop" };
        _loop.Start();
    }

    /// <summary>The scheduler (its state belongs to the loop thread; read counters only).</summary>
    public Scheduler Scheduler => _core.Scheduler;

    /// <summary>Requests submitted and not yet finished.</summary>
    public int UnfinishedRequests => Volatile.Read(ref _unfinishedRequests);

    /// <summary>Fraction of KV blocks in use, as of the last step.</summary>
    public double KvCacheUsage { get; private set; }

    /// <summary>
    /// Validates and queues <paramref name="request"/> (its id is replaced by a unique one) and returns its output
    /// stream. Cancelling <paramref name="cancellationToken"/> later aborts the request.
    /// </summary>
    /// <exception cref="Sampling.InvalidSamplingParameterException">A sampling parameter is out of range.</exception>
    /// <exception cref="RequestRejectedException">The request can never be served (e.g. beyond the context).</exception>
    /// <exception cref="EngineOverloadedException">The waiting queue is full.</exception>
    public async ValueTask<GenerationOutputs> SubmitAsync(EngineRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_stopping, this);
        _core.Scheduler.ValidateRequest(request);
        request.Sampling.Validate(_core.VocabSize);
        if (Volatile.Read(ref _unfinishedRequests) - _runningRequests >= _options.MaxQueuedRequests)
        {
            throw Overloaded();
        }

        if (_options.Prefetch is { } prefetch)
        {
            await prefetch(request, cancellationToken).ConfigureAwait(false);
        }

        if (Interlocked.Increment(ref _unfinishedRequests) - _runningRequests > _options.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref _unfinishedRequests);
            throw Overloaded();
        }

        string id = $"{request.RequestId}#{Interlocked.Increment(ref _nextRequestId)}";
        var engineRequest = request with { RequestId = id };
        var channel = Channel.CreateUnbounded<GenerationOutput>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var stream = new GenerationOutputs(id, request.PromptTokenIds.Count, channel.Reader);
        var state = new RequestState(engineRequest, stream, channel.Writer, Stopwatch.GetTimestamp()) { Activity = EngineTracing.StartRequest(id, request.PromptTokenIds.Count, request.Sampling) };
        _requests[id] = state;
        try
        {
            _core.AddRequest(engineRequest);
        }
        catch (Exception e)
        {
            _requests.TryRemove(id, out _);
            Interlocked.Decrement(ref _unfinishedRequests);
            EngineTracing.Finish(state.Activity, 0, 0, e.GetType().Name);
            throw;
        }

        _metrics?.RequestQueued();
        if (cancellationToken.CanBeCanceled)
        {
            state.Registration = cancellationToken.Register(() => Cancel(id));
        }

        _wake.Release();
        return stream;
    }

    /// <summary>Aborts request <paramref name="requestId"/> (from <see cref="GenerationOutputs.RequestId"/>) at the next step.</summary>
    public void Cancel(string requestId)
    {
        _aborts.Enqueue(requestId);
        _wake.Release();
    }

    /// <summary>Stops the loop after the current step; unfinished requests end as cancelled.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _wake.Release();
        _loop.Join();
        foreach (var state in _requests.Values)
        {
            state.Writer.TryComplete(new OperationCanceledException("The engine stopped."));
        }

        _wake.Dispose();
    }

    private EngineOverloadedException Overloaded() =>
        new($"The engine's queue is full ({_options.MaxQueuedRequests} requests waiting); retry later.", _options.RetryAfter);

    private void Run()
    {
        while (!_stopping)
        {
            while (_aborts.TryDequeue(out string? id))
            {
                if (_requests.TryGetValue(id, out var aborted))
                {
                    _core.Abort(id);
                    FinishRequest(aborted, "cancelled");
                }
            }

            if (_failAllWith is { } shutdown)
            {
                _failAllWith = null;
                FailAll(shutdown);
            }

            if (!_core.HasUnfinishedRequests)
            {
                PublishGauges();
                if (IsReady)
                {
                    _wake.Wait();
                    HoldForArrivals();
                }
                else if (!_wake.Wait(_options.ProbeInterval))
                {
                    Probe();
                }

                continue;
            }

            IReadOnlyList<SequenceUpdate> updates;
            try
            {
                updates = _core.Step();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Not a fault of the step's work (those are caught per sequence or per forward pass) but of the
                // scheduler's own bookkeeping, whose state can no longer be trusted.
                FailAll(new SequenceFailedException($"The engine's scheduler failed: {e.Message}", causedByInput: false, e));
                continue;
            }

            HandleFaults();
            if (_core.LastStep is { } timing)
            {
                _metrics?.StepFinished(timing.Elapsed, timing.Decodes, timing.PrefillTokens);
            }

            long now = Stopwatch.GetTimestamp();
            foreach (var sequence in _core.Scheduler.Running)
            {
                if (_requests.TryGetValue(sequence.RequestId, out var state))
                {
                    MarkStarted(state, now);
                }
            }

            foreach (var update in updates)
            {
                if (_requests.TryGetValue(update.Sequence.RequestId, out var state))
                {
                    MarkStarted(state, now);
                    DeliverOrFail(state, update, now);
                }
            }

            PublishGauges();
        }
    }

    // The engine woke from idle: prompts sent together get to share the first step (see AdmissionWindow). Each arrival
    // wakes the wait, and the window grows with the queued tokens, from the same start; an abort ends it at once.
    private void HoldForArrivals()
    {
        long start = Stopwatch.GetTimestamp();
        var scheduler = _core.Scheduler;
        while (!_stopping && _aborts.IsEmpty && !scheduler.HasUnfinished)
        {
            var left = AdmissionWindow.For(scheduler.StepBudget, _core.QueuedPromptTokens, scheduler.Config.MaxAdmissionWait)
                - Stopwatch.GetElapsedTime(start);
            if (left <= TimeSpan.Zero || !_wake.Wait(left))
            {
                return;
            }
        }
    }

    private void MarkStarted(RequestState state, long now)
    {
        if (state.Started)
        {
            return;
        }

        state.Started = true;
        _runningRequests++;
        _metrics?.RequestStarted(Stopwatch.GetElapsedTime(state.ArrivalTimestamp, now), state.Request.PromptTokenIds.Count);
        EngineTracing.Scheduled(state.Activity, Stopwatch.GetElapsedTime(state.ArrivalTimestamp, now));
    }

    private void FinishRequest(RequestState state, string? errorType, Exception? error = null)
    {
        if (!_requests.TryRemove(state.Request.RequestId, out _))
        {
            return;
        }

        foreach (long sequenceId in state.SequenceIds)
        {
            _sequences.Remove(sequenceId);
        }

        state.Registration.Dispose();
        if (state.Started)
        {
            _runningRequests--;
        }

        Interlocked.Decrement(ref _unfinishedRequests);
        _metrics?.RequestFinished(Stopwatch.GetElapsedTime(state.ArrivalTimestamp), state.Request.PromptTokenIds.Count,
            state.CompletionTokens, state.Started, errorType);
        EngineTracing.Finish(state.Activity, state.CompletionTokens, state.CachedTokens, errorType);
        if (errorType is null)
        {
            state.Stream.Usage = new GenerationUsage(state.Request.PromptTokenIds.Count, state.CompletionTokens, state.CachedTokens);
            state.Writer.TryComplete();
        }
        else
        {
            state.Writer.TryComplete(error ?? new OperationCanceledException($"Request {state.Request.RequestId} was {errorType}."));
        }
    }

    private void PublishGauges()
    {
        var scheduler = _core.Scheduler;
        KvCacheUsage = scheduler.KvCache.Usage;
        if (_metrics is null)
        {
            return;
        }

        _metrics.KvCacheUsage(KvCacheUsage);
        _metrics.StepTokenBudget(scheduler.LastTokenBudget);
        _metrics.RunningChanged(scheduler.NumRunning - _reportedRunning);
        _reportedRunning = scheduler.NumRunning;
        long queries = scheduler.KvCache.PrefixQueryTokens;
        long hits = scheduler.KvCache.PrefixHitTokens;
        _metrics.PrefixCacheLookups(queries - _reportedQueries, hits - _reportedHits);
        _reportedQueries = queries;
        _reportedHits = hits;
    }

    private sealed class RequestState(EngineRequest request, GenerationOutputs stream, ChannelWriter<GenerationOutput> writer, long arrivalTimestamp)
    {
        public EngineRequest Request { get; } = request;

        public GenerationOutputs Stream { get; } = stream;

        public ChannelWriter<GenerationOutput> Writer { get; } = writer;

        public long ArrivalTimestamp { get; } = arrivalTimestamp;

        public Activity? Activity { get; init; }

        public bool Started { get; set; }

        public int CompletionTokens { get; set; }

        public int CachedTokens { get; set; }

        public int FinishedSequences { get; set; }

        public List<long> SequenceIds { get; } = [];

        public CancellationTokenRegistration Registration { get; set; }
    }
}
