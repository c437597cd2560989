using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

/// <summary>One sequence's constraint with the mask of its next position, which a worker fills while the forward pass runs.</summary>
internal sealed class SequenceConstraint(ITokenConstraint rule, int vocabSize)
{
    private readonly ulong[] _mask = new ulong[TokenMask.WordsFor(vocabSize)];

    /// <summary>The rule, at the sequence's position.</summary>
    public ITokenConstraint Rule { get; } = rule;

    /// <summary>The next position's mask; valid after <see cref="FillMask"/> until the next <see cref="Accept"/>.</summary>
    public ReadOnlySpan<ulong> Mask => _mask;

    /// <summary>Whether <see cref="Mask"/> is for the current position.</summary>
    public bool HasMask { get; private set; }

    /// <summary>Computes the next position's mask (on any thread, never during <see cref="Accept"/>).</summary>
    public void FillMask()
    {
        if (HasMask)
        {
            return;
        }

        Array.Clear(_mask);
        Rule.FillAllowedTokens(_mask);
        HasMask = true;
    }

    /// <summary>Moves past the sampled token.</summary>
    /// <exception cref="InvalidOperationException">The rule refuses the token (the sampler drew outside the mask).</exception>
    public void Accept(int tokenId)
    {
        HasMask = false;
        if (!Rule.Accept(tokenId))
        {
            throw new InvalidOperationException($"The constraint refused token {tokenId}, which its mask allowed.");
        }
    }
}
