using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

/// <summary>A generation request as the engine sees it: prompt token ids and how to sample.</summary>
/// <param name="RequestId">Unique among unfinished requests; used to abort.</param>
/// <param name="PromptTokenIds">The tokenized prompt (at least one token).</param>
/// <param name="Sampling">Sampling parameters (validated on admission).</param>
public sealed record EngineRequest(string RequestId, IReadOnlyList<int> PromptTokenIds, SamplingParams Sampling)
{
    /// <summary>Under <see cref="SchedulingPolicy.Priority"/>, lower values are served first.</summary>
    public int Priority { get; init; }

    /// <summary>
    /// vLLM's <c>cache_salt</c>: folded into the first prompt block's key, so requests with different salts (e.g.
    /// different tenants) never share prefix-cache blocks, locally or through a shared tier. Null: no salt.
    /// </summary>
    public string? CacheSalt { get; init; }

    /// <summary>
    /// Makes the constraint (grammar) of one completion: called once per sequence, so that each of the <c>n</c>
    /// completions walks the rule on its own. Null: unconstrained.
    /// </summary>
    public Func<ITokenConstraint>? Constraint { get; init; }
}
