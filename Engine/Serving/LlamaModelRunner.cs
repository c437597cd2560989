using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Serving;

/// <summary>
/// Runs the scheduler's steps on a <see cref="LlamaModel"/>: block copies and second-tier loads first, then one
/// batched forward pass over every scheduled token, each sequence through its own block table. On an ILGPU backend
/// the draws run on the device (<see cref="IDeviceSamplingRunner"/>).
/// </summary>
public sealed class LlamaModelRunner : IDeviceSamplingRunner
{
    private readonly LlamaModel _model;
    private readonly IKvBlockTier? _tier;

    /// <summary>A runner for <paramref name="model"/>; <paramref name="tier"/> supplies <see cref="SchedulerOutput.BlockLoads"/>.</summary>
    public LlamaModelRunner(LlamaModel model, IKvBlockTier? tier = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _tier = tier;
    }

    /// <inheritdoc/>
    public int VocabSize => _model.HyperParameters.VocabularySize;

    /// <inheritdoc/>
    public bool SamplesOnDevice => _model.SamplesOnDevice;

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">A block load was scheduled without a tier, or the tier could not supply it.</exception>
    public void Execute(SchedulerOutput batch, Span<float> logits)
    {
        if (Prepare(batch) is { } forward)
        {
            _model.Forward(forward, logits);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">A block load could not be made, or the model has no device (<see cref="SamplesOnDevice"/> is false).</exception>
    public void Execute(SchedulerOutput batch, IReadOnlyList<SamplingJob> jobs, Span<int> tokens, ReadOnlySpan<int> hostRows, Span<float> logits)
    {
        if (Prepare(batch) is { } forward)
        {
            _model.ForwardSampled(forward, jobs, tokens, hostRows, logits);
        }
    }

    // Block copies and loads, then the step's batch (null when it schedules no token).
    private ForwardBatch? Prepare(SchedulerOutput batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var copy in batch.BlockCopies)
        {
            _model.KvBlocks.CopyBlock(copy.Source, copy.Destination);
        }

        foreach (var load in batch.BlockLoads)
        {
            if (_tier is null || !_tier.TryLoad(load.Hash, load.Block, _model.KvBlocks))
            {
                throw new InvalidOperationException($"KV block {load.Hash} was promised by the second tier but could not be loaded into block {load.Block}");
            }
        }

        if (batch.NumScheduledTokens == 0)
        {
            return null;
        }

        var tables = new int[batch.Sequences.Count][];
        for (var i = 0; i < tables.Length; i++)
        {
            tables[i] = [.. batch.Sequences[i].BlockTable];
        }

        return new ForwardBatch(batch.TokenIds, batch.Positions, batch.SequenceIndices, tables, batch.LogitsIndices);
    }
}
