namespace Fathom.KvCache.Redis;

/// <summary>
/// What every block of one model must look like: a fetched header that says anything else is rejected before its
/// payload is read, so a forged or foreign header can never make the reader allocate or fetch more than one block.
/// </summary>
/// <param name="LayerCount">Layers in a block payload.</param>
/// <param name="TokenCount">Tokens per block.</param>
/// <param name="DType">Element type of the payload.</param>
/// <param name="PayloadBytes">Bytes of one block's payload.</param>
public readonly record struct KvBlockShape(int LayerCount, int TokenCount, KvBlockDType DType, int PayloadBytes)
{
    /// <summary>Chunk keys a payload of this shape is stored in with <paramref name="chunkBytes"/> per chunk (0: inline).</summary>
    /// <param name="chunkBytes">The writers' <see cref="KvCacheOptions.ChunkBytes"/>.</param>
    public int ChunkCount(int chunkBytes) => ChunkCountOf(PayloadBytes, chunkBytes);

    internal static int ChunkCountOf(long payloadBytes, int chunkBytes) =>
        payloadBytes > chunkBytes ? (int)((payloadBytes + chunkBytes - 1) / chunkBytes) : 0;
}
