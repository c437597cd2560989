namespace Fathom.Engine.Sampling;

/// <summary>
/// The key of one draw from a request's own random stream: counter-based, so a draw depends only on the
/// request's seed, which of its <c>n</c> sequences draws, and at which output position — never on the batch.
/// </summary>
/// <param name="Seed">The request's seed.</param>
/// <param name="SequenceIndex">Which of the request's sequences (0..n-1).</param>
/// <param name="Step">The output position being sampled (0 for the first generated token).</param>
public readonly record struct SampleKey(long Seed, int SequenceIndex, int Step)
{
    /// <summary>A uniform draw in [0, 1) with 53 random bits.</summary>
    public double NextUniform()
    {
        ulong x = Mix(unchecked((ulong)Seed));
        x = Mix(x ^ (uint)SequenceIndex);
        x = Mix(x ^ ((ulong)(uint)Step << 32));
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    // SplitMix64's finalizer: a bijective avalanche on 64 bits.
    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
