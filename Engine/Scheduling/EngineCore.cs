using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// The engine loop: each <see cref="Step"/> is schedule → one forward step on the <see cref="IModelRunner"/> →
/// sample every sequence that reached its last position → update. Requests and aborts may arrive from any
/// thread; they take effect at the start of the next step.
/// </summary>
/// <remarks>
/// A request with a <see cref="EngineRequest.Constraint"/> gets one per sequence: the token masks of the step's
/// constrained sequences are computed on a worker while the forward pass runs (they depend only on the tokens
/// accepted so far), applied by the sampler, and each sampled token is accepted into its sequence's constraint. A
/// sequence whose constraint is complete finishes with <see cref="FinishReason.Stop"/>.
/// </remarks>
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

    /// <summary>The last <see cref="Step"/>'s forward pass, timed; null when it ran none (idle, or it failed).</summary>
    public StepTiming? LastStep { get; private set; }

    /// <summary>Seam for tests: see <see cref="EngineHostOptions.FaultInjector"/>.</summary>
    internal Action<Sequence, FaultPoint>? FaultInjector { get; init; }

    /// <summary>
    /// Compute constraint masks on a worker while the forward pass runs (true, the default) or on the loop thread
    /// after it (false; kept to measure what the overlap saves).
    /// </summary>
    public bool OverlapConstraintMasks { get; init; } = true;

    /// <summary>Time the loop thread spent waiting for (or computing) constraint masks after forward passes, in stopwatch ticks.</summary>
    public long MaskWaitTicks { get; private set; }

    /// <summary>Logits per row of the runner (token ids must be below it).</summary>
    public int VocabSize => _runner.VocabSize;

    /// <summary>Whether work is queued, waiting or running.</summary>
    public bool HasUnfinishedRequests => !_arrivals.IsEmpty || Scheduler.HasUnfinished;

    /// <summary>Prompt tokens of the requests queued since the last step (any thread may read it).</summary>
    public int QueuedPromptTokens
    {
        get
        {
            long tokens = 0;
            foreach (var request in _arrivals)
            {
                tokens += request.PromptTokenIds.Count;
            }

            return (int)Math.Min(tokens, int.MaxValue);
        }
    }

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
        LastStep = null;
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

        var masks = ConstrainedSequences(step, vocab);
        var masking = masks.Count > 0 && OverlapConstraintMasks ? Task.Run(() => FillMasks(masks)) : null;
        var draws = DeviceDraws(step, vocab);
        bool ran = TryExecute(step, _logits.AsSpan(0, size), draws);
        long waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
        if (masking is not null)
        {
            masking.Wait(); // FillMasks never throws: a failed mask is recomputed (and its error met) at sampling
        }
        else if (ran && masks.Count > 0)
        {
            FillMasks(masks);
        }

        MaskWaitTicks += masks.Count > 0 ? System.Diagnostics.Stopwatch.GetTimestamp() - waitStart : 0;
        if (!ran)
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
                samples[sequence.Id] = draws is not null && draws.Start.TryGetValue(sequence.Id, out int start)
                    ? Drawn(scheduled, draws, start)
                    : Sample(scheduled, _logits.AsSpan(scheduled.LogitsRow * vocab, vocab));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Sampling reads only this sequence's logits and its request's parameters: the request caused it.
                Fail(sequence, new SequenceFailedException($"Sampling failed: {e.Message}", causedByInput: true, e));
            }
        }

        var updates = Scheduler.Update(step, samples, (sequence, e) =>
            _faults.Add(new SequenceFault(sequence, new SequenceFailedException($"Updating the sequence failed: {e.Message}", causedByInput: false, e))));
        return masks.Count > 0 ? FinishCompleted(updates) : updates;
    }

    /// <summary>Tokens drawn on the device so far (each came back without its logit row).</summary>
    public long DeviceDrawCount { get; private set; }

    // With a runner that samples on the device: a job for every draw SamplingJob.CanRunOnDevice allows, and the
    // logit rows of the others (constrained), which alone are copied back. Null: all on the host.
    private DeviceDrawPlan? DeviceDraws(SchedulerOutput step, int vocab)
    {
        if (_runner is not IDeviceSamplingRunner { SamplesOnDevice: true })
        {
            return null;
        }

        var plan = new DeviceDrawPlan();
        foreach (var scheduled in step.Sequences)
        {
            var sequence = scheduled.Sequence;
            if (scheduled.SampleCount == 0)
            {
                continue;
            }

            var parameters = sequence.Request.Sampling;
            if (!SamplingJob.CanRunOnDevice(parameters, sequence.Request.Constraint is not null))
            {
                plan.HostRows.Add(scheduled.LogitsRow);
                continue;
            }

            plan.Start[sequence.Id] = plan.Jobs.Count;
            for (int i = 0; i < scheduled.SampleCount; i++)
            {
                plan.Jobs.Add(SamplingJob.Create(scheduled.LogitsRow, parameters, sequence.PromptSpan, sequence.OutputSpan, KeyOf(sequence, i), vocab));
            }
        }

        plan.Tokens = new int[plan.Jobs.Count];
        return plan;
    }

    // The device's tokens for one sequence, with the logprobs the device wrote into their jobs (NaN and none when not asked for).
    private SampledToken[] Drawn(ScheduledSequence scheduled, DeviceDrawPlan draws, int start)
    {
        FaultInjector?.Invoke(scheduled.Sequence, FaultPoint.Sample);
        var tokens = new SampledToken[scheduled.SampleCount];
        for (int i = 0; i < tokens.Length; i++)
        {
            var job = draws.Jobs[start + i];
            tokens[i] = new SampledToken(draws.Tokens[start + i], job.Logprob, job.TopLogprobs);
        }

        DeviceDrawCount += tokens.Length;
        return tokens;
    }

    // Completion i of a forking prompt draws from its own stream: (seed, i, position).
    private static SampleKey KeyOf(Sequence sequence, int i) => new(sequence.Seed, i == 0 ? sequence.Index : i, sequence.NumOutputTokens);

    private sealed class DeviceDrawPlan
    {
        public List<SamplingJob> Jobs { get; } = [];

        public Dictionary<long, int> Start { get; } = []; // sequence id -> its first job

        public List<int> HostRows { get; } = [];

        public int[] Tokens { get; set; } = [];
    }

    // The step's sampling sequences that are constrained, each with its constraint made on first use.
    private static List<SequenceConstraint> ConstrainedSequences(SchedulerOutput step, int vocab)
    {
        var masks = new List<SequenceConstraint>();
        foreach (var scheduled in step.Sequences)
        {
            var sequence = scheduled.Sequence;
            if (scheduled.SampleCount > 0 && sequence.Request.Constraint is { } factory)
            {
                sequence.Constraint ??= new SequenceConstraint(factory(), vocab);
                masks.Add(sequence.Constraint);
            }
        }

        return masks;
    }

    private static void FillMasks(List<SequenceConstraint> masks)
    {
        foreach (var mask in masks)
        {
            try
            {
                mask.FillMask();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Left without a mask: sampling computes it again on the loop thread, where the error fails that sequence alone.
            }
        }
    }

    // A sequence whose constraint admits nothing more ends here, as if it had sampled a stop token.
    private List<SequenceUpdate> FinishCompleted(IReadOnlyList<SequenceUpdate> updates)
    {
        var result = new List<SequenceUpdate>(updates.Count);
        foreach (var update in updates)
        {
            if (update.FinishReason is null && update.Sequence.Constraint?.Rule.IsComplete == true
                && Scheduler.FinishSequence(update.Sequence.Id, FinishReason.Stop))
            {
                result.Add(update with { FinishReason = FinishReason.Stop });
                continue;
            }

            result.Add(update);
        }

        return result;
    }

    private SampledToken[] Sample(ScheduledSequence scheduled, ReadOnlySpan<float> row)
    {
        var sequence = scheduled.Sequence;
        FaultInjector?.Invoke(sequence, FaultPoint.Sample);
        var tokens = new SampledToken[scheduled.SampleCount];
        var constraint = sequence.Constraint;
        if (constraint is not null)
        {
            constraint.FillMask(); // normally done by the worker during the forward pass
        }

        var mask = constraint is null ? default : constraint.Mask;
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = _sampler.Sample(row, sequence.Request.Sampling, sequence.PromptSpan, sequence.OutputSpan, KeyOf(sequence, i), mask);
        }

        if (constraint is not null)
        {
            // The forked siblings start where the parent did (nothing accepted yet), so the parent's mask was theirs too;
            // each gets its own constraint, which the scheduler hands over when it forks them.
            sequence.ForkConstraints = tokens.Length > 1 ? [] : null;
            for (int i = 1; i < tokens.Length; i++)
            {
                var sibling = new SequenceConstraint(sequence.Request.Constraint!(), _runner.VocabSize);
                sibling.Accept(tokens[i].TokenId);
                sequence.ForkConstraints!.Add(sibling);
            }

            constraint.Accept(tokens[0].TokenId);
        }

        return tokens;
    }

    // Runs the forward pass, once more if it throws. Nothing of the scheduler has moved yet, so the same step can
    // run again: block copies and loads rewrite the same blocks and the tokens rewrite the same K/V slots.
    private bool TryExecute(SchedulerOutput step, Span<float> logits, DeviceDrawPlan? draws)
    {
        Exception? error = null;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                if (draws is not null)
                {
                    ((IDeviceSamplingRunner)_runner).Execute(step, draws.Jobs, draws.Tokens, CollectionsMarshal.AsSpan(draws.HostRows), logits);
                }
                else
                {
                    _runner.Execute(step, logits);
                }

                var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                Scheduler.StepBudget.Observe(step.TokenIds.Length, elapsed);
                LastStep = new StepTiming(step.TokenIds.Length, step.Sequences.Count(s => s.NumTokens == 1 && s.SampleCount > 0), elapsed);
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
