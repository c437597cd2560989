namespace Fathom.Engine.Sampling;

/// <summary>
/// A rule on which tokens one sequence may generate next (a grammar, a JSON schema): before each draw the sampler
/// masks every token it does not allow, and the token drawn is then fed back through <see cref="Accept"/>.
/// </summary>
/// <remarks>
/// One instance per sequence: it holds that sequence's position in the rule. The engine calls
/// <see cref="FillAllowedTokens"/> on a worker thread while the forward pass runs, and <see cref="Accept"/> on its loop
/// thread afterwards, never both at once.
/// </remarks>
public interface ITokenConstraint
{
    /// <summary>
    /// Sets bit <c>i % 64</c> of word <c>i / 64</c> for every token <c>i</c> that may come next. The caller clears
    /// <paramref name="allowed"/> first; it covers the whole logits row, which may be longer than the rule's vocabulary.
    /// </summary>
    /// <param name="allowed">The bitmask to fill. // (ceil(n_vocab / 64))</param>
    void FillAllowedTokens(Span<ulong> allowed);

    /// <summary>Moves past <paramref name="tokenId"/>; false, with nothing changed, when the rule does not allow it.</summary>
    bool Accept(int tokenId);

    /// <summary>True when nothing may follow what was accepted: the sequence ends here.</summary>
    bool IsComplete { get; }
}
