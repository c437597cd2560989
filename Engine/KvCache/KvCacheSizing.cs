namespace Fathom.Engine.KvCache;

/// <summary>Turns a memory budget into a number of KV cache blocks.</summary>
public static class KvCacheSizing
{
    /// <summary>The default number of tokens per block.</summary>
    public const int DefaultBlockSize = 16;

    /// <summary>K plus V bytes one token takes across all layers when the cache holds <paramref name="dataType"/>.</summary>
    /// <param name="layers">Layers of the model.</param>
    /// <param name="kvLength">Elements of one token's keys in one layer (KV heads × head dimension).</param>
    /// <param name="dataType">The cache's element type (resolved: f16 or f32).</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive shape or an unresolved type.</exception>
    public static long BytesPerToken(int layers, int kvLength, KvCacheDataType dataType)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvLength);
        return 2L * layers * kvLength * KvCacheDataTypes.SizeOf(dataType);
    }

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
