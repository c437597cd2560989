using System.Security.Cryptography;
using Fathom.Engine.KvCache;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// Continuous batching in vLLM v1's shape: <see cref="Schedule"/> picks <c>{sequence: tokens}</c> for one step
/// under a token budget — running decodes first, then continuing prefill chunks, then new admissions — and
/// allocates their KV blocks, preempting (by recompute) when blocks run out; <see cref="Update(SchedulerOutput, IReadOnlyDictionary{long, IReadOnlyList{Sampling.SampledToken}})"/>
/// appends the sampled tokens and retires finished sequences. Deterministic given the same calls.
/// </summary>
/// <remarks>Not thread-safe: drive it from one loop (see <see cref="EngineCore"/>).</remarks>
public sealed partial class Scheduler
{
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private long _nextSequenceId;
    private long _nextArrival;
    private long _stepIndex;

    /// <summary>A scheduler over <paramref name="kvCache"/>.</summary>
    /// <param name="config">Limits and policy.</param>
    /// <param name="kvCache">The KV block manager.</param>
    public Scheduler(SchedulerConfig config, KvCacheManager kvCache)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(kvCache);
        config.Validate();
        Config = config;
        KvCache = kvCache;
        StepBudget = new StepTokenBudget(config.StepTimeTarget, config.StepTimeDecodeMultiple);
    }

    /// <summary>
    /// The learned per-step token budget (used when <see cref="SchedulerConfig.MaxNumBatchedTokens"/> is null); the
    /// engine loop reports each forward step's time to it.
    /// </summary>
    public StepTokenBudget StepBudget { get; }

    /// <summary>The token budget of the last <see cref="Schedule"/> call.</summary>
    public int LastTokenBudget { get; private set; }

    /// <summary>Limits and policy.</summary>
    public SchedulerConfig Config { get; }

    /// <summary>The KV block manager.</summary>
    public KvCacheManager KvCache { get; }

    /// <summary>Sequences holding KV blocks, in admission order.</summary>
    public IReadOnlyList<Sequence> Running => _running;

    /// <summary>Sequences queued for admission, in admission order.</summary>
    public IEnumerable<Sequence> Waiting => _waiting;

    /// <summary>Number of running sequences.</summary>
    public int NumRunning => _running.Count;

    /// <summary>Number of waiting sequences.</summary>
    public int NumWaiting => _waiting.Count;

    /// <summary>Whether any sequence is waiting or running.</summary>
    public bool HasUnfinished => _running.Count > 0 || _waiting.Count > 0;

    /// <summary>Preemptions so far.</summary>
    public long NumPreemptions { get; private set; }

    /// <summary>Most tokens (prompt plus output) one sequence may hold: the context length, capped by the whole KV pool.</summary>
    public int MaxSequenceLength =>
        (int)Math.Min(Config.MaxModelLength ?? int.MaxValue, (long)KvCache.Pool.TotalBlocks * KvCache.BlockSize);

    /// <summary>Checks that <paramref name="request"/> can ever be served; throws what the API maps to 400.</summary>
    /// <exception cref="Sampling.InvalidSamplingParameterException">A sampling parameter is out of range.</exception>
    /// <exception cref="RequestRejectedException">Empty prompt, prompt plus max_tokens beyond the context, n above the sequence limit, or n × max_tokens beyond the KV cache.</exception>
    public void ValidateRequest(EngineRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Sampling);
        request.Sampling.Validate();
        if (request.PromptTokenIds is null || request.PromptTokenIds.Count == 0)
        {
            throw Rejected("The prompt must contain at least one token.", "prompt");
        }

        if (request.Sampling.N > Config.MaxNumSequences)
        {
            throw Rejected($"n = {request.Sampling.N} exceeds the {Config.MaxNumSequences} sequences this engine runs at once.", "n");
        }

        int prompt = request.PromptTokenIds.Count;
        int limit = MaxSequenceLength;
        if (prompt >= limit)
        {
            throw Rejected(
                $"The prompt has {prompt} tokens; this model serves at most {limit} tokens in total, prompt and output.", "prompt");
        }

        if (Config.MaxModelLength is { } context && request.Sampling.MaxTokens is { } maxTokens && (long)prompt + maxTokens > context)
        {
            throw Rejected(
                $"This model's maximum context length is {context} tokens; the request asks for {prompt + (long)maxTokens} ({prompt} in the prompt, {maxTokens} max_tokens).",
                "max_tokens");
        }

        // The choices of a request run side by side (forks share the prompt's blocks), so n × max_tokens must fit the
        // pool beside the prompt, or the request could only preempt itself. One sequence is capped at MaxSequenceLength.
        long capacity = (long)KvCache.Pool.TotalBlocks * KvCache.BlockSize;
        int n = request.Sampling.N;
        if (n > 1 && request.Sampling.MaxTokens is { } outputTokens && prompt + ((long)n * outputTokens) > capacity)
        {
            throw Rejected(
                $"The request needs {prompt + ((long)n * outputTokens)} tokens of KV cache ({prompt} in the prompt, n = {n} × {outputTokens} max_tokens); this engine holds {capacity}.",
                "n");
        }
    }

    /// <summary>Queues a request (validated first) behind those already waiting.</summary>
    public void AddRequest(EngineRequest request)
    {
        ValidateRequest(request);
        if (_running.Concat(_waiting).Any(s => s.RequestId == request.RequestId))
        {
            throw Rejected($"A request with id '{request.RequestId}' is already in progress.", "request_id");
        }

        long seed = request.Sampling.Seed ?? BitConverter.ToInt64(RandomNumberGenerator.GetBytes(sizeof(long)));
        var sequence = new Sequence(_nextSequenceId++, request, 0, _nextArrival++, seed, request.PromptTokenIds, request.PromptTokenIds.Count)
        {
            PendingForks = request.Sampling.N - 1,
        };
        Enqueue(sequence, front: false);
    }

    /// <summary>Finishes every sequence of <paramref name="requestId"/> now and frees its blocks (client disconnect). False if none was unfinished.</summary>
    public bool Abort(string requestId)
    {
        var victims = _running.Concat(_waiting).Where(s => s.RequestId == requestId).ToList();
        foreach (var sequence in victims)
        {
            Finish(sequence, FinishReason.Abort);
        }

        return victims.Count > 0;
    }

    /// <summary>
    /// Finishes one sequence now and frees its blocks: the host calls it between steps when a token completed a
    /// stop string, which only the detokenizing layer can see. False if it was not unfinished.
    /// </summary>
    public bool FinishSequence(long sequenceId, FinishReason reason)
    {
        var sequence = _running.Concat(_waiting).FirstOrDefault(s => s.Id == sequenceId);
        if (sequence is null)
        {
            return false;
        }

        Finish(sequence, reason);
        return true;
    }

    /// <summary>Picks the next step's work and allocates its KV blocks.</summary>
    public SchedulerOutput Schedule()
    {
        var plan = new List<PlannedSequence>();
        var loads = new List<KvBlockLoad>();
        var preempted = new List<long>();

        // 1. Running sequences: decodes first, then prefill chunks, each in admission order.
        var order = _running.Where(s => !IsPrefilling(s)).Concat(_running.Where(IsPrefilling)).ToList();
        int budget = LastTokenBudget = TokenBudget(order.Count(s => !IsPrefilling(s)));
        foreach (var sequence in order)
        {
            if (budget == 0)
            {
                break;
            }

            if (sequence.Status != SequenceStatus.Running)
            {
                continue; // preempted earlier in this step
            }

            int numTokens = Math.Min(sequence.NumTokens - sequence.NumComputedTokens, budget);
            var copies = new List<BlockCopy>();
            bool scheduled = true;
            while (!KvCache.TryAllocate(sequence.BlockTable, numTokens, null, copies, loads))
            {
                var victim = PickVictim();
                budget += Preempt(victim, plan);
                preempted.Add(victim.Id);
                if (victim == sequence)
                {
                    scheduled = false;
                    break;
                }
            }

            if (scheduled)
            {
                plan.Add(new PlannedSequence(sequence, numTokens, 0, copies));
                budget -= numTokens;
            }
        }

        // 2. Admissions, only when nothing had to give way this step.
        while (preempted.Count == 0 && budget > 0 && _waiting.First is { } node)
        {
            var sequence = node.Value;
            if (_running.Sum(s => 1 + s.PendingForks) + 1 + sequence.PendingForks > Config.MaxNumSequences)
            {
                break;
            }

            var prefix = KvCache.FindCachedPrefix(sequence.TokenSpan, sequence.BlockHashes, sequence.PrefixRoot);
            int remaining = sequence.NumTokens - prefix.NumTokens;
            int numTokens = Math.Min(remaining, budget);
            var copies = new List<BlockCopy>();
            if ((numTokens < remaining && !Config.EnableChunkedPrefill)
                || !KvCache.TryAllocate(sequence.BlockTable, numTokens, prefix, copies, loads))
            {
                break; // head of line waits: admission stays in order
            }

            KvCache.RecordPrefixQuery(sequence.NumTokens, prefix);
            _waiting.RemoveFirst();
            sequence.Status = SequenceStatus.Running;
            sequence.NumComputedTokens = prefix.NumTokens;
            sequence.CachedPromptTokens ??= Math.Min(prefix.NumTokens, sequence.PromptLength);
            _running.Add(sequence);
            plan.Add(new PlannedSequence(sequence, numTokens, prefix.NumTokens, copies));
            budget -= numTokens;
        }

        return BuildOutput(plan, loads, preempted);
    }

    // The learned budget leaves room for every decode plus at least one prefill token (see StepTokenBudget), so that
    // neither decodes nor waiting prompts starve, and otherwise never more than the step-time target allows.
    private int TokenBudget(int decoding) => Config.MaxNumBatchedTokens ?? StepBudget.TokensFor(decoding);

    private static RequestRejectedException Rejected(string message, string field) => new(message, field);

    private static bool IsPrefilling(Sequence sequence) => sequence.NumTokens - sequence.NumComputedTokens > 1;

    private SchedulerOutput BuildOutput(List<PlannedSequence> plan, List<KvBlockLoad> loads, List<long> preempted)
    {
        int total = plan.Sum(p => p.NumTokens);
        var tokenIds = new int[total]; // (n_tokens)
        var positions = new int[total]; // (n_tokens)
        var sequenceIndices = new int[total]; // (n_tokens)
        var logitsIndices = new List<int>();
        var scheduled = new List<ScheduledSequence>(plan.Count);
        int offset = 0;
        for (int i = 0; i < plan.Count; i++)
        {
            var (sequence, numTokens, cached, _) = plan[i];
            int start = sequence.NumComputedTokens;
            for (int j = 0; j < numTokens; j++)
            {
                tokenIds[offset + j] = sequence.Tokens[start + j];
                positions[offset + j] = start + j;
                sequenceIndices[offset + j] = i;
            }

            bool samples = start + numTokens == sequence.NumTokens;
            int row = -1;
            if (samples)
            {
                row = logitsIndices.Count;
                logitsIndices.Add(offset + numTokens - 1);
            }

            int sampleCount = samples ? 1 + sequence.PendingForks : 0;
            scheduled.Add(new ScheduledSequence(sequence, numTokens, start, offset, cached, sampleCount, row, sequence.BlockTable.ToArray()));
            offset += numTokens;
        }

        var copies = plan.SelectMany(p => p.Copies).ToList();
        return new SchedulerOutput(_stepIndex++, scheduled, tokenIds, positions, sequenceIndices, [.. logitsIndices], copies, loads, preempted);
    }

    // The running sequence to give way: lowest priority (highest value, under the priority policy), then latest arrival.
    private Sequence PickVictim()
    {
        var victim = _running[0];
        foreach (var candidate in _running)
        {
            if (ComparePreemptionOrder(candidate, victim) > 0)
            {
                victim = candidate;
            }
        }

        return victim;
    }

    // Positive when a is served after b (and so is preempted before b).
    private int ComparePreemptionOrder(Sequence a, Sequence b)
    {
        int byPriority = Config.Policy == SchedulingPolicy.Priority ? a.Request.Priority.CompareTo(b.Request.Priority) : 0;
        return byPriority != 0 ? byPriority
            : a.ArrivalOrder != b.ArrivalOrder ? a.ArrivalOrder.CompareTo(b.ArrivalOrder)
            : a.Id.CompareTo(b.Id);
    }

    // Recompute preemption: drop the KV, keep the tokens, queue again first in line. Returns the budget it gives back.
    private int Preempt(Sequence victim, List<PlannedSequence> plan)
    {
        KvCache.Free(victim.BlockTable);
        victim.NumComputedTokens = 0;
        victim.NumPreemptions++;
        victim.Status = SequenceStatus.Waiting;
        _running.Remove(victim);
        NumPreemptions++;
        Enqueue(victim, front: true);
        int index = plan.FindIndex(p => p.Sequence == victim);
        if (index < 0)
        {
            return 0;
        }

        int given = plan[index].NumTokens;
        plan.RemoveAt(index);
        return given;
    }

    private void Enqueue(Sequence sequence, bool front)
    {
        sequence.Status = SequenceStatus.Waiting;
        if (Config.Policy == SchedulingPolicy.Fcfs)
        {
            if (front)
            {
                _waiting.AddFirst(sequence);
            }
            else
            {
                _waiting.AddLast(sequence);
            }

            return;
        }

        var node = _waiting.First;
        while (node is not null && ComparePreemptionOrder(node.Value, sequence) < 0)
        {
            node = node.Next;
        }

        if (node is null)
        {
            _waiting.AddLast(sequence);
        }
        else
        {
            _waiting.AddBefore(node, sequence);
        }
    }

    private void Finish(Sequence sequence, FinishReason reason)
    {
        if (sequence.Status == SequenceStatus.Waiting)
        {
            _waiting.Remove(sequence);
        }
        else if (sequence.Status == SequenceStatus.Running)
        {
            _running.Remove(sequence);
        }

        KvCache.Free(sequence.BlockTable);
        sequence.Status = SequenceStatus.Finished;
        sequence.FinishReason = reason;
        sequence.PendingForks = 0;
    }

    private sealed record PlannedSequence(Sequence Sequence, int NumTokens, int NumCachedTokens, List<BlockCopy> Copies);
}
