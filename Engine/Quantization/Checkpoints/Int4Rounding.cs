namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>Round-to-nearest 4-bit group quantization as the AWQ and GPTQ packers compute it (for writing test checkpoints).</summary>
internal static class Int4Rounding
{
    /// <summary>Asymmetric: scale over [min, max] (f16-rounded), zero point clamped to [<paramref name="minZero"/>, 15].</summary>
    public static (float Scale, int Zero) Asymmetric(ReadOnlySpan<float> group, int minZero)
    {
        float min = 0, max = 0; // both include 0, as the packers do
        foreach (var x in group)
        {
            min = Math.Min(min, x);
            max = Math.Max(max, x);
        }

        var s = (float)(Half)(Math.Max(max - min, 1e-5f) / 15);
        var z = Math.Clamp(-(int)MathF.Round(min / s, MidpointRounding.ToEven), minZero, 15);
        return (s, z);
    }

    /// <summary>Symmetric: s = 2·max|x|/15 (f16-rounded), zero point 8.</summary>
    public static float Symmetric(ReadOnlySpan<float> group)
    {
        float amax = 0;
        foreach (var x in group)
        {
            amax = Math.Max(amax, MathF.Abs(x));
        }

        return (float)(Half)(Math.Max(2 * amax, 1e-5f) / 15);
    }

    public static int Quant(float x, float scale, int zero) => Math.Clamp((int)MathF.Round(x / scale, MidpointRounding.ToEven) + zero, 0, 15);
}
