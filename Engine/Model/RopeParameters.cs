namespace Fathom.Engine.Model;

/// <summary>
/// Everything a backend needs to rotate a head: pairing mode, rotated dimensions and the angular frequency of
/// each pair (base, linear scale and Llama-3 divisors already folded in).
/// </summary>
internal sealed class RopeParameters
{
    public RopeParameters(RopeMode mode, int dimensions, float frequencyBase, float frequencyScale, ReadOnlySpan<float> divisors)
    {
        if (!divisors.IsEmpty && divisors.Length != dimensions / 2)
        {
            throw new ArgumentException($"expected {dimensions / 2} frequency divisors, got {divisors.Length}", nameof(divisors));
        }

        Mode = mode;
        Dimensions = dimensions;
        Frequencies = new double[dimensions / 2];
        for (var i = 0; i < Frequencies.Length; i++)
        {
            var divisor = divisors.IsEmpty ? 1.0 : divisors[i];
            Frequencies[i] = frequencyScale * Math.Pow(frequencyBase, -2.0 * i / dimensions) / divisor;
        }
    }

    public RopeMode Mode { get; }

    /// <summary>Rotated dimensions per head (even); the rest of the head passes through.</summary>
    public int Dimensions { get; }

    /// <summary>Angle per position of each pair. // (Dimensions / 2)</summary>
    public double[] Frequencies { get; }

    /// <summary>Cosines and sines of each pair's angle at <paramref name="position"/>. // (Dimensions / 2) each</summary>
    public void Angles(int position, Span<float> cos, Span<float> sin)
    {
        for (var i = 0; i < Frequencies.Length; i++)
        {
            var theta = position * Frequencies[i];
            cos[i] = (float)Math.Cos(theta);
            sin[i] = (float)Math.Sin(theta);
        }
    }
}
