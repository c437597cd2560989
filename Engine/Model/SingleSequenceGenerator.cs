namespace Fathom.Engine.Model;

/// <summary>
/// Generation for one sequence that owns the whole KV cache (blocks 0..n in order): the CLI's path. Servers
/// batch many sequences through <see cref="LlamaModel.Forward"/> with their own block tables instead.
/// </summary>
public sealed class SingleSequenceGenerator
{
    private readonly LlamaModel _model;
    private readonly int[] _blockTable;
    private readonly float[] _logits; // (vocab)

    /// <summary>Creates a generator over <paramref name="model"/>'s KV cache.</summary>
    public SingleSequenceGenerator(LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _blockTable = Enumerable.Range(0, model.KvBlockCount).ToArray();
        _logits = new float[model.HyperParameters.VocabularySize];
    }

    /// <summary>Tokens the cache can hold.</summary>
    public int Capacity => _blockTable.Length * _model.KvBlockSize;

    /// <summary>
    /// Prefills <paramref name="prompt"/> in one step, then yields up to <paramref name="maxTokens"/> tokens,
    /// stopping after <paramref name="endOfSequence"/> (which is yielded) or when the cache is full.
    /// </summary>
    public IEnumerable<int> Generate(IReadOnlyList<int> prompt, int maxTokens, TokenSampler sampler, int? endOfSequence = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(sampler);
        if (prompt.Count == 0)
        {
            throw new ArgumentException("the prompt is empty", nameof(prompt));
        }

        if (prompt.Count >= Capacity)
        {
            throw new ArgumentException($"the prompt has {prompt.Count} tokens; the KV cache holds {Capacity}", nameof(prompt));
        }

        return Run(prompt, maxTokens, sampler, endOfSequence);
    }

    private IEnumerable<int> Run(IReadOnlyList<int> prompt, int maxTokens, TokenSampler sampler, int? endOfSequence)
    {
        _model.Forward(ForwardBatch.ForSequence(prompt.ToArray(), 0, _blockTable), _logits);
        var position = prompt.Count;
        for (var i = 0; i < maxTokens; i++)
        {
            var token = sampler.Sample(_logits);
            yield return token;
            if (token == endOfSequence || position >= Capacity || i == maxTokens - 1)
            {
                yield break;
            }

            _model.Forward(ForwardBatch.ForSequence([token], position++, _blockTable), _logits);
        }
    }
}
