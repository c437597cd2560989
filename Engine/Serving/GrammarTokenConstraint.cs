using Fathom.Engine.Constraints;
using Fathom.Engine.Sampling;

namespace Fathom.Engine.Serving;

/// <summary>A sequence constrained by a grammar from its first token: the sampler's view of a <see cref="GrammarMatcher"/>.</summary>
internal sealed class GrammarTokenConstraint(GrammarMatcher matcher) : ITokenConstraint
{
    public bool IsComplete => matcher.IsComplete;

    public void FillAllowedTokens(Span<ulong> allowed) => matcher.FillNextTokenMask(allowed);

    public bool Accept(int tokenId) => matcher.Accept(tokenId);
}
