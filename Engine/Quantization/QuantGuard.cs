namespace Fathom.Engine.Quantization;

/// <summary>Argument checks shared by the tensor-format routines, so every format reports bad input the same way.</summary>
internal static class QuantGuard
{
    public static int BlockCount(int n, int blockSize, string format, string paramName = "n")
    {
        if (n < 0)
        {
            throw new ArgumentException($"{format}: element count {n} is negative.", paramName);
        }

        if (n % blockSize != 0)
        {
            throw new ArgumentException(
                $"{format}: a row of {n} elements is not a multiple of the block size {blockSize}.", paramName);
        }

        return n / blockSize;
    }

    public static void AtLeast(int actual, long required, string what, string format, string paramName)
    {
        if (actual < required)
        {
            throw new ArgumentException(
                $"{format}: {what} holds {actual} elements but {required} are needed.", paramName);
        }
    }
}
