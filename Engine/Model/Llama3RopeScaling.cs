namespace Fathom.Engine.Model;

/// <summary>
/// Llama-3.1 rope scaling: wavelengths longer than <c>OriginalContextLength / LowFrequencyFactor</c> are divided
/// by <c>Factor</c>, shorter than <c>OriginalContextLength / HighFrequencyFactor</c> are kept, and the band
/// between is interpolated.
/// </summary>
/// <param name="Factor">Overall scale (8 for Llama 3.1/3.3).</param>
/// <param name="LowFrequencyFactor">Low-frequency boundary factor (1).</param>
/// <param name="HighFrequencyFactor">High-frequency boundary factor (4).</param>
/// <param name="OriginalContextLength">Pre-training context (8192).</param>
public sealed record Llama3RopeScaling(float Factor, float LowFrequencyFactor, float HighFrequencyFactor, int OriginalContextLength)
{
    /// <summary>The divisor of each frequency <c>base^(-2i/d)</c>, i in [0, d/2): what GGUF stores as <c>rope_freqs.weight</c>.</summary>
    public float[] FrequencyDivisors(float frequencyBase, int ropeDimensions)
    {
        var divisors = new float[ropeDimensions / 2];
        var lowWavelength = OriginalContextLength / LowFrequencyFactor;
        var highWavelength = OriginalContextLength / HighFrequencyFactor;
        for (var i = 0; i < divisors.Length; i++)
        {
            var frequency = Math.Pow(frequencyBase, -2.0 * i / ropeDimensions);
            var wavelength = 2 * Math.PI / frequency;
            if (wavelength < highWavelength)
            {
                divisors[i] = 1f;
            }
            else if (wavelength > lowWavelength)
            {
                divisors[i] = Factor;
            }
            else
            {
                var smooth = ((OriginalContextLength / wavelength) - LowFrequencyFactor) / (HighFrequencyFactor - LowFrequencyFactor);
                divisors[i] = (float)(1.0 / (((1 - smooth) / Factor) + smooth));
            }
        }

        return divisors;
    }
}
