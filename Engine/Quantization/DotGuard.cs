namespace Fathom.Engine.Quantization;

/// <summary>Argument checks for the dot kernels.</summary>
internal static class DotGuard
{
    public static int Quantized(
        ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n, int blockSize, int weightBlockBytes, int actBlockBytes,
        string weightFormat, string actFormat)
    {
        var nb = QuantGuard.BlockCount(n, blockSize, weightFormat);
        if (w.Length < (long)nb * weightBlockBytes)
        {
            throw new ArgumentException(
                $"{weightFormat}: weight row holds {w.Length} bytes but {n} elements need {(long)nb * weightBlockBytes}.", nameof(w));
        }

        if (a.Length < (long)nb * actBlockBytes)
        {
            throw new ArgumentException(
                $"{actFormat}: activation row holds {a.Length} bytes but {n} elements need {(long)nb * actBlockBytes}.", nameof(a));
        }

        return nb;
    }

    public static void Float(int wElements, int aElements, int n, string weightFormat)
    {
        QuantGuard.BlockCount(n, 1, weightFormat);
        QuantGuard.AtLeast(wElements, n, "weight row", weightFormat, "w");
        QuantGuard.AtLeast(aElements, n, "activation row", "F32", "a");
    }
}
