using Fathom.Engine.Constraints;
using Fathom.Engine.Sampling;

namespace Fathom.Engine.Serving;

/// <summary>
/// A reasoning model's constraint: the reasoning is free until the end marker (<c>&lt;/think&gt;</c>), and the grammar
/// applies from the byte after it — bytes a token carries past the marker are the grammar's first. While reasoning,
/// the end-of-generation tokens are not allowed (the constrained answer must still come), nor are tokens that would
/// cross the marker into bytes the grammar refuses. After <c>budget</c> reasoning tokens the marker is forced.
/// </summary>
internal sealed class ReasoningGatedConstraint : ITokenConstraint
{
    private readonly ReasoningMarkerTable _marker;
    private readonly IReadOnlySet<int> _endTokens;
    private readonly GrammarMatcher _afterMarker;
    private readonly GrammarMatcher? _forcedMarker;
    private readonly int? _budget;
    private GrammarMatcher? _answer;
    private int _state;
    private int _reasoningTokens;

    /// <param name="marker">The end-of-reasoning marker's table.</param>
    /// <param name="endTokens">The model's end-of-generation ids.</param>
    /// <param name="afterMarker">The grammar of the answer, at its start.</param>
    /// <param name="forcedMarker">The marker followed by the answer's grammar, at its start (used once the budget is spent; null without a budget).</param>
    /// <param name="budget">Most reasoning tokens before the marker is forced; null: no limit.</param>
    public ReasoningGatedConstraint(ReasoningMarkerTable marker, IReadOnlySet<int> endTokens, GrammarMatcher afterMarker, GrammarMatcher? forcedMarker, int? budget)
    {
        _marker = marker;
        _endTokens = endTokens;
        _afterMarker = afterMarker;
        _forcedMarker = forcedMarker;
        _budget = budget;
        if (budget is <= 0 && forcedMarker is not null)
        {
            _answer = forcedMarker.Clone();
        }
    }

    public bool IsComplete => _answer?.IsComplete == true;

    public void FillAllowedTokens(Span<ulong> allowed)
    {
        if (_answer is not null)
        {
            _answer.FillNextTokenMask(allowed);
            return;
        }

        int tokens = Math.Min(_marker.TokenCount, allowed.Length * 64);
        allowed[..(tokens >> 6)].Fill(ulong.MaxValue);
        for (int id = tokens & ~63; id < tokens; id++)
        {
            TokenMask.Allow(allowed, id);
        }

        foreach (int id in _endTokens)
        {
            if (id < tokens)
            {
                allowed[id >> 6] &= ~(1UL << (id & 63));
            }
        }

        foreach (var (token, rest) in _marker.Crossing(_state))
        {
            if (!_afterMarker.Clone().AcceptBytes(_marker.BytesOf(token).AsSpan(rest)))
            {
                allowed[token >> 6] &= ~(1UL << (token & 63));
            }
        }
    }

    public bool Accept(int tokenId)
    {
        if (_answer is not null)
        {
            return _answer.Accept(tokenId);
        }

        if (_endTokens.Contains(tokenId) || (uint)tokenId >= (uint)_marker.TokenCount)
        {
            return false;
        }

        var bytes = _marker.BytesOf(tokenId) ?? [];
        int next = _marker.Advance(_state, bytes, out int rest);
        if (next < 0)
        {
            var answer = _afterMarker.Clone();
            if (!answer.AcceptBytes(bytes.AsSpan(rest)))
            {
                return false;
            }

            _answer = answer;
            return true;
        }

        _state = next;
        if (++_reasoningTokens >= _budget && _forcedMarker is not null)
        {
            _answer = _forcedMarker.Clone();
        }

        return true;
    }
}
