using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Serving;

/// <summary>
/// Runs the scheduler's steps on a <see cref="LlamaModel"/>: block copies and second-tier loads first, then one
/// batched forward pass over every scheduled token, each sequence through its own block table.
/// </summary>
public sealed class LlamaModelRunner : IModelRunner
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
    /// <exception cref="InvalidOperationException">A block load was scheduled without a tier, or the tier could not supply it.</exception>
    public void Execute(SchedulerOutput batch, Span<float> logits)
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
            return;
        }

        var tables = new int[batch.Sequences.Count][];
        for (var i = 0; i < tables.Length; i++)
        {
            tables[i] = [.. batch.Sequences[i].BlockTable];
        }

        var forward = new ForwardBatch(batch.TokenIds, batch.Positions, batch.SequenceIndices, tables, batch.LogitsIndices);
        _model.Forward(forward, logits);
    }
}
