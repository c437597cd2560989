namespace Fathom.Engine.Tests.Quantization;

/// <summary>Seeded inputs shaped like real weights/activations (roughly normal, with occasional outliers).</summary>
internal static class QuantTestData
{
    public static float[] Values(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (var i = 0; i < n; i++)
        {
            var g = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
            x[i] = scale * (rng.Next(64) == 0 ? 6 * g : g);
        }

        return x;
    }
}
