namespace Fathom.Engine.Model;

/// <summary>Picks the next token from logits: greedy at temperature 0, else a seeded draw from softmax(logits / T).</summary>
public sealed class TokenSampler
{
    private readonly Random _random;

    /// <summary>Creates a sampler.</summary>
    /// <param name="temperature">0 (or less) for greedy.</param>
    /// <param name="seed">Seed of the draws; null for a random seed.</param>
    public TokenSampler(float temperature = 0f, int? seed = null)
    {
        Temperature = temperature;
        _random = seed is int s ? new Random(s) : new Random();
    }

    /// <summary>The softmax temperature; greedy when ≤ 0.</summary>
    public float Temperature { get; }

    /// <summary>The chosen token id.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        if (Temperature <= 0)
        {
            return best;
        }

        double sum = 0;
        var max = logits[best];
        for (var i = 0; i < logits.Length; i++)
        {
            sum += Math.Exp((logits[i] - max) / Temperature);
        }

        var target = _random.NextDouble() * sum;
        double running = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            running += Math.Exp((logits[i] - max) / Temperature);
            if (running >= target)
            {
                return i;
            }
        }

        return best;
    }
}
