using System.Runtime.InteropServices;
using Fathom.Engine.KvCache;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// One token stream being generated: a request has one per completion (<c>n</c>). Holds prompt and output
/// tokens, how many of them have K/V computed, and its block table.
/// </summary>
public sealed class Sequence
{
    private readonly List<int> _tokens;

    internal Sequence(long id, EngineRequest request, int index, long arrivalOrder, long seed, IEnumerable<int> tokens, int promptLength)
    {
        Id = id;
        Request = request;
        Index = index;
        ArrivalOrder = arrivalOrder;
        Seed = seed;
        _tokens = [.. tokens];
        PromptLength = promptLength;
        PrefixRoot = BlockHasher.RootFor(request.CacheSalt);
    }

    /// <summary>Unique id, increasing in creation order.</summary>
    public long Id { get; }

    /// <summary>The request this sequence answers.</summary>
    public EngineRequest Request { get; }

    /// <summary>The request's id.</summary>
    public string RequestId => Request.RequestId;

    /// <summary>Which of the request's completions this is (0..n-1).</summary>
    public int Index { get; }

    /// <summary>Arrival order of the request (shared by its sequences).</summary>
    public long ArrivalOrder { get; }

    /// <summary>The request's seed (given or drawn on admission).</summary>
    public long Seed { get; }

    /// <summary>Prompt then output token ids.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>Number of prompt tokens.</summary>
    public int PromptLength { get; }

    /// <summary>Prompt plus output tokens.</summary>
    public int NumTokens => _tokens.Count;

    /// <summary>Generated tokens.</summary>
    public int NumOutputTokens => _tokens.Count - PromptLength;

    /// <summary>Leading tokens whose K/V are in the cache (0 again after a preemption).</summary>
    public int NumComputedTokens { get; internal set; }

    /// <summary>Prompt tokens found in the prefix cache on first admission (null before).</summary>
    public int? CachedPromptTokens { get; internal set; }

    /// <summary>Where the sequence is in its life.</summary>
    public SequenceStatus Status { get; internal set; }

    /// <summary>Why it finished, once finished.</summary>
    public FinishReason? FinishReason { get; internal set; }

    /// <summary>The stop token that ended it, if one did.</summary>
    public int? StopTokenId { get; internal set; }

    /// <summary>Times it was preempted (and recomputed).</summary>
    public int NumPreemptions { get; internal set; }

    /// <summary>Its KV blocks.</summary>
    public BlockTable BlockTable { get; } = new();

    internal List<BlockHash> BlockHashes { get; } = [];

    /// <summary>The parent of its first block's key: the request's cache salt, so salts never share blocks.</summary>
    internal BlockHash PrefixRoot { get; }

    /// <summary>Siblings still to fork off when the prompt's first token is sampled (n - 1 until then).</summary>
    internal int PendingForks { get; set; }

    /// <summary>Where the sequence is in its request's constraint, once it has sampled under one (null: unconstrained or not yet).</summary>
    internal SequenceConstraint? Constraint { get; set; }

    /// <summary>The constraints of the siblings forked off at the prompt's first token, accepted that token each, in child order.</summary>
    internal List<SequenceConstraint>? ForkConstraints { get; set; }

    internal ReadOnlySpan<int> TokenSpan => CollectionsMarshal.AsSpan(_tokens);

    internal ReadOnlySpan<int> PromptSpan => TokenSpan[..PromptLength];

    internal ReadOnlySpan<int> OutputSpan => TokenSpan[PromptLength..];

    internal void Append(int token) => _tokens.Add(token);

    /// <inheritdoc/>
    public override string ToString() => $"seq {Id} ({RequestId}#{Index}, {Status}, {NumComputedTokens}/{NumTokens})";
}
