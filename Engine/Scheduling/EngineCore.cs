using System.Collections.Concurrent;
using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// The engine loop: each <see cref="Step"/> is schedule → one forward step on the <see cref="IModelRunner"/> →
/// sample every sequence that reached its last position → update. Requests and aborts may arrive from any
/// thread; they take effect at the start of the next step.
/// </summary>
public sealed class EngineCore
{
    private readonly ConcurrentQueue<EngineRequest> _arrivals = new();
    private readonly ConcurrentQueue<string> _aborts = new();
    private readonly IModelRunner _runner;
    private readonly Sampler _sampler;
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

    /// <summary>Runs one step; returns the tokens it generated, in batch order (empty when idle).</summary>
    public IReadOnlyList<SequenceUpdate> Step()
    {
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

        _runner.Execute(step, _logits.AsSpan(0, size));
        var samples = new Dictionary<long, IReadOnlyList<SampledToken>>();
        foreach (var scheduled in step.Sequences)
        {
            if (scheduled.SampleCount == 0)
            {
                continue;
            }

            var sequence = scheduled.Sequence;
            var row = _logits.AsSpan(scheduled.LogitsRow * vocab, vocab);
            var tokens = new SampledToken[scheduled.SampleCount];
            for (int i = 0; i < tokens.Length; i++)
            {
                // Completion i of a forking prompt draws from its own stream: (seed, i, position).
                var key = new SampleKey(sequence.Seed, i == 0 ? sequence.Index : i, sequence.NumOutputTokens);
                tokens[i] = _sampler.Sample(row, sequence.Request.Sampling, sequence.PromptSpan, sequence.OutputSpan, key);
            }

            samples[sequence.Id] = tokens;
        }

        return Scheduler.Update(step, samples);
    }
}
