using System.Collections.Concurrent;
using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// The engine loop: each <see cref="Step"/> is schedule → one forward step on the <see cref="IModelRunner"/> →
/// sample every sequence that reached its last position → update. Requests and aborts may arrive from any
/// thread; they take effect at the start of the next step.
/// </summary>
/// <remarks>
/// Faults stay with the sequence they belong to: one whose sampling or bookkeeping throws is finished alone and
/// listed in <see cref="Faults"/>, and the others' updates go on. A forward step that throws is run once more
/// (the scheduler's state does not move until the update, and rewriting the same positions' K/V is idempotent);
/// if it throws again only that step's sequences fail (<see cref="StepError"/>), and the blocks the step was
/// filling leave the prefix cache.
/// </remarks>
public sealed class EngineCore
{
    private readonly ConcurrentQueue<EngineRequest> _arrivals = new();
    private readonly ConcurrentQueue<string> _aborts = new();
    private readonly IModelRunner _runner;
    private readonly Sampler _sampler;
    private readonly List<SequenceFault> _faults = [];
    private float[] _logits = []; // (n_logits, n_vocab)

    /// <summary>A loop over <paramref name="scheduler"/> and <paramref name="runner"/>.</summary>
    public EngineCore(Scheduler scheduler, IModelRunner runner, Sampler? sampler = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(runner);
        Scheduler = scheduler;
        _runner = runner;
        _sampler = sampler ?? new Sampler();
    }

    /// <summary>The scheduler (read its state from the loop thread only).</summary>
    public Scheduler Scheduler { get; }

    /// <summary>The sequences the last <see cref="Step"/> failed (finished, blocks freed); their requests' other sequences still run.</summary>
    public IReadOnlyList<SequenceFault> Faults => _faults;

    /// <summary>Why the last <see cref="Step"/>'s forward pass failed twice, or null when it ran (or there was nothing to run).</summary>
    public Exception? StepError { get; private set; }

    /// <summary>Forward passes that succeeded so far.</summary>
    public long ForwardSteps { get; private set; }

    /// <summary>Seam for tests: see <see cref="EngineHostOptions.FaultInjector"/>.</summary>
    internal Action<Sequence, FaultPoint>? FaultInjector { get; init; }

    /// <summary>Logits per row of the runner (token ids must be below it).</summary>
    public int VocabSize => _runner.VocabSize;

    /// <summary>Whether work is queued, waiting or running.</summary>
    public bool HasUnfinishedRequests => !_arrivals.IsEmpty || Scheduler.HasUnfinished;

    /// <summary>Validates <paramref name="request"/> now (throws for a bad one) and queues it for the next step.</summary>
    public void AddRequest(EngineRequest request)
    {
        Scheduler.ValidateRequest(request);
        request.Sampling.Validate(_runner.VocabSize);
        _arrivals.Enqueue(request);
    }

    /// <summary>Aborts a request at the start of the next step, freeing its blocks.</summary>
    public void Abort(string requestId) => _aborts.Enqueue(requestId);

    /// <summary>
    /// Finishes sequence <paramref name="sequenceId"/> now and frees its blocks, for a stop condition only the caller
    /// sees (a stop string in the detokenized text). Call it between steps, from the thread that runs them.
    /// </summary>
    /// <returns>False if the sequence was not unfinished.</returns>
    public bool FinishSequence(long sequenceId, FinishReason reason) => Scheduler.FinishSequence(sequenceId, reason);

    /// <summary>
    /// Runs one step; returns the tokens it generated, in batch order (empty when idle). Sequences it failed are in
    /// <see cref="Faults"/>, and a failed forward pass in <see cref="StepError"/>.
    /// </summary>
    public IReadOnlyList<SequenceUpdate> Step()
    {
        _faults.Clear();
        StepError = null;
        while (_arrivals.TryDequeue(out var request))
        {
            Scheduler.AddRequest(request);
        }

        while (_aborts.TryDequeue(out string? requestId))
        {
            Scheduler.Abort(requestId);
        }

        var step = Scheduler.Schedule();
        if (step.IsEmpty)
        {
            return [];
        }

        int vocab = _runner.VocabSize;
        int size = step.LogitsIndices.Length * vocab;
        if (_logits.Length < size)
        {
            _logits = new float[size];
        }

        if (!TryExecute(step, _logits.AsSpan(0, size)))
        {
            return [];
        }

        var samples = new Dictionary<long, IReadOnlyList<SampledToken>>();
        foreach (var scheduled in step.Sequences)
        {
            if (scheduled.SampleCount == 0)
            {
                continue;
            }

            var sequence = scheduled.Sequence;
            try
            {
                samples[sequence.Id] = Sample(scheduled, _logits.AsSpan(scheduled.LogitsRow * vocab, vocab));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Sampling reads only this sequence's logits and its request's parameters: the request caused it.
                Fail(sequence, new SequenceFailedException($"Sampling failed: {e.Message}", causedByInput: true, e));
            }
        }

        return Scheduler.Update(step, samples, (sequence, e) =>
            _faults.Add(new SequenceFault(sequence, new SequenceFailedException($"Updating the sequence failed: {e.Message}", causedByInput: false, e))));
    }

    private SampledToken[] Sample(ScheduledSequence scheduled, ReadOnlySpan<float> row)
    {
        var sequence = scheduled.Sequence;
        FaultInjector?.Invoke(sequence, FaultPoint.Sample);
        var tokens = new SampledToken[scheduled.SampleCount];
        for (int i = 0; i < tokens.Length; i++)
        {
            // Completion i of a forking prompt draws from its own stream: (seed, i, position).
            var key = new SampleKey(sequence.Seed, i == 0 ? sequence.Index : i, sequence.NumOutputTokens);
            tokens[i] = _sampler.Sample(row, sequence.Request.Sampling, sequence.PromptSpan, sequence.OutputSpan, key);
        }

        return tokens;
    }

    // Runs the forward pass, once more if it throws. Nothing of the scheduler has moved yet, so the same step can
    // run again: block copies and loads rewrite the same blocks and the tokens rewrite the same K/V slots.
    private bool TryExecute(SchedulerOutput step, Span<float> logits)
    {
        Exception? error = null;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                _runner.Execute(step, logits);
                ForwardSteps++;
                return true;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                error = e;
            }
        }

        StepError = error;

        // The step's blocks may hold half-written K/V: forget the loaded blocks' keys (computed blocks are only
        // registered after a successful step) before the failed sequences give the blocks back.
        Scheduler.KvCache.Forget(step.BlockLoads);
        var failure = new SequenceFailedException($"The model's forward step failed twice: {error!.Message}", causedByInput: false, error);
        foreach (var scheduled in step.Sequences)
        {
            Fail(scheduled.Sequence, failure);
        }

        return false;
    }

    private void Fail(Sequence sequence, SequenceFailedException error)
    {
        if (Scheduler.FinishSequence(sequence.Id, FinishReason.Abort))
        {
            _faults.Add(new SequenceFault(sequence, error));
        }
    }
}
