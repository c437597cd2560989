using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>Bookkeeping after a step, for callers that sample without log probabilities.</summary>
    /// <param name="output">The step that ran.</param>
    /// <param name="sampledTokens">By sequence id, the <see cref="ScheduledSequence.SampleCount"/> tokens sampled for it.</param>
    public IReadOnlyList<SequenceUpdate> Update(SchedulerOutput output, IReadOnlyDictionary<long, IReadOnlyList<int>> sampledTokens)
    {
        ArgumentNullException.ThrowIfNull(sampledTokens);
        var samples = sampledTokens.ToDictionary(
            kv => kv.Key,
            kv => (IReadOnlyList<SampledToken>)[.. kv.Value.Select(t => new SampledToken(t, float.NaN, []))]);
        return Update(output, samples);
    }

    /// <summary>
    /// Bookkeeping after a step: advances computed tokens, registers newly full blocks in the prefix cache,
    /// forks a prompt's <c>n</c> completions, appends sampled tokens, checks stop conditions (stop and
    /// end-of-generation ids, max_tokens, context length; stop strings are the host's, see <see cref="FinishSequence"/>) and frees finished sequences' blocks.
    /// </summary>
    /// <param name="output">The step that ran.</param>
    /// <param name="sampledTokens">By sequence id, the <see cref="ScheduledSequence.SampleCount"/> tokens sampled for it (token i goes to completion i when forking).</param>
    /// <returns>The appended tokens, in batch order.</returns>
    public IReadOnlyList<SequenceUpdate> Update(SchedulerOutput output, IReadOnlyDictionary<long, IReadOnlyList<SampledToken>> sampledTokens) =>
        Update(output, sampledTokens, onFault: null);

    /// <summary>
    /// <see cref="Update(SchedulerOutput, IReadOnlyDictionary{long, IReadOnlyList{SampledToken}})"/>, where a fault in
    /// one sequence's bookkeeping finishes that request's sequences (blocks freed) and is reported to
    /// <paramref name="onFault"/> instead of stopping the others' updates. Null: the fault propagates.
    /// </summary>
    internal IReadOnlyList<SequenceUpdate> Update(
        SchedulerOutput output, IReadOnlyDictionary<long, IReadOnlyList<SampledToken>> sampledTokens, Action<Sequence, Exception>? onFault)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(sampledTokens);
        var updates = new List<SequenceUpdate>();
        foreach (var scheduled in output.Sequences)
        {
            var sequence = scheduled.Sequence;
            if (sequence.Status != SequenceStatus.Running)
            {
                continue; // aborted, finished or failed between Schedule and Update
            }

            if (onFault is null)
            {
                UpdateOne(scheduled, sampledTokens, updates);
                continue;
            }

            int before = updates.Count;
            try
            {
                UpdateOne(scheduled, sampledTokens, updates);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                updates.RemoveRange(before, updates.Count - before);
                Abort(sequence.RequestId);
                onFault(sequence, e);
            }
        }

        return updates;
    }

    private void UpdateOne(ScheduledSequence scheduled, IReadOnlyDictionary<long, IReadOnlyList<SampledToken>> sampledTokens, List<SequenceUpdate> updates)
    {
        var sequence = scheduled.Sequence;
        sequence.NumComputedTokens += scheduled.NumTokens;
        KvCache.CacheComputedBlocks(sequence.BlockTable, sequence.TokenSpan, sequence.NumComputedTokens, sequence.BlockHashes, sequence.PrefixRoot);
        if (scheduled.SampleCount == 0)
        {
            return;
        }

        if (!sampledTokens.TryGetValue(sequence.Id, out var tokens) || tokens.Count != scheduled.SampleCount)
        {
            throw new ArgumentException(
                $"Sequence {sequence.Id} needs {scheduled.SampleCount} sampled token(s) this step.", nameof(sampledTokens));
        }

        var children = Fork(sequence, tokens.Count - 1);
        AppendToken(sequence, tokens[0], updates);
        for (int i = 0; i < children.Count; i++)
        {
            AppendToken(children[i], tokens[i + 1], updates);
        }
    }

    // The prompt is computed: the other n - 1 completions share its blocks from here on (copy on write).
    private List<Sequence> Fork(Sequence parent, int count)
    {
        var children = new List<Sequence>(count);
        int at = _running.IndexOf(parent) + 1;
        for (int i = 1; i <= count; i++)
        {
            var child = new Sequence(_nextSequenceId++, parent.Request, i, parent.ArrivalOrder, parent.Seed, parent.Tokens, parent.PromptLength)
            {
                NumComputedTokens = parent.NumComputedTokens,
                CachedPromptTokens = parent.CachedPromptTokens,
                Status = SequenceStatus.Running,
                Constraint = parent.ForkConstraints is { } constraints && i - 1 < constraints.Count ? constraints[i - 1] : null,
            };
            child.BlockHashes.AddRange(parent.BlockHashes);
            KvCache.Fork(parent.BlockTable, child.BlockTable);
            _running.Insert(at++, child);
            children.Add(child);
        }

        parent.PendingForks = 0;
        parent.ForkConstraints = null;
        return children;
    }

    private void AppendToken(Sequence sequence, SampledToken token, List<SequenceUpdate> updates)
    {
        int id = token.TokenId;
        sequence.Append(id);
        var sampling = sequence.Request.Sampling;
        FinishReason? reason = null;
        if (sampling.StopTokenIds?.Contains(id) == true || (!sampling.IgnoreEos && Config.EndOfGenerationTokenIds.Contains(id)))
        {
            reason = FinishReason.Stop;
            sequence.StopTokenId = id;
        }
        else if (sequence.NumOutputTokens >= (sampling.MaxTokens ?? int.MaxValue) || sequence.NumTokens >= MaxSequenceLength)
        {
            reason = FinishReason.Length;
        }

        updates.Add(new SequenceUpdate(sequence, token, reason));
        if (reason is { } finish)
        {
            Finish(sequence, finish);
        }
    }
}
