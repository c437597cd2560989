namespace Fathom.Engine.KvCache;

/// <summary>Turns a memory budget into a number of KV cache blocks.</summary>
public static class KvCacheSizing
{
    /// <summary>The default number of tokens per block.</summary>
    public const int DefaultBlockSize = 16;

    /// <summary>How many whole blocks of <paramref name="blockSize"/> tokens fit in <paramref name="budgetBytes"/>.</summary>
    /// <param name="budgetBytes">Bytes available for K and V of all layers.</param>
    /// <param name="bytesPerToken">K plus V bytes one token takes across all layers.</param>
    /// <param name="blockSize">Tokens per block.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive argument.</exception>
    public static int BlocksFor(long budgetBytes, long bytesPerToken, int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerToken);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        long bytesPerBlock = checked(bytesPerToken * blockSize);
        return (int)Math.Min(budgetBytes / bytesPerBlock, int.MaxValue);
    }
}
