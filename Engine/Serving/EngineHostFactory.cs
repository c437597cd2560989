using Fathom.Engine.Diagnostics;
using Fathom.Engine.KvCache;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Serving;

/// <summary>Wires an <see cref="EngineHost"/> for a <see cref="ServedModel"/>: its KV pool, runner, EOG ids and context limit.</summary>
public static class EngineHostFactory
{
    /// <summary>A host for <paramref name="model"/>: its KV pool, EOG ids and context limit.</summary>
    /// <param name="model">The loaded model.</param>
    /// <param name="config">Scheduler limits; the model's EOG ids and context length are filled in.</param>
    /// <param name="options">Queue limit, retry hint and prefetch seam.</param>
    /// <param name="metrics">Where to record metrics.</param>
    /// <param name="tier">Optional second KV tier (e.g. Redis) behind the local prefix cache; its prefetch goes in
    /// <see cref="EngineHostOptions.Prefetch"/>.</param>
    public static EngineHost Create(ServedModel model, SchedulerConfig? config = null, EngineHostOptions? options = null, EngineMetrics? metrics = null, IKvBlockTier? tier = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        config = (config ?? new SchedulerConfig()) with
        {
            EndOfGenerationTokenIds = model.EndOfGenerationIds.ToArray(),
            MaxModelLength = model.MaxModelLength,
        };
        options ??= new EngineHostOptions();

        var pool = new KvBlockPool(model.Model.KvBlockCount, model.Model.KvBlockSize, tier);
        var kv = new KvCacheManager(pool, model.Model.Fingerprint, tier);
        IModelRunner runner = new LlamaModelRunner(model.Model, tier);
        if (options.WrapRunner is { } wrap)
        {
            runner = wrap(runner);
        }

        return new EngineHost(config, kv, runner, model.Tokenizer, options, metrics);
    }
}
