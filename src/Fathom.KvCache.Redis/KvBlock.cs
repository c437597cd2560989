using Fathom.Engine.KvCache;

namespace Fathom.KvCache.Redis;

/// <summary>One full prefix block's K and V for all layers, as stored in and fetched from the remote tier.</summary>
/// <param name="Hash">The engine's chained block hash (its key in the prefix cache).</param>
/// <param name="LayerCount">Layers covered by <paramref name="Payload"/>.</param>
/// <param name="TokenCount">Tokens in the block.</param>
/// <param name="DType">Element type of the payload.</param>
/// <param name="Payload">
/// K/V for all layers in the engine's layout (named by the fingerprint). On write the store keeps a reference until
/// the block is sent, so the caller must hand over a buffer it will not reuse.
/// </param>
public sealed record KvBlock(BlockHash Hash, int LayerCount, int TokenCount, KvBlockDType DType, ReadOnlyMemory<byte> Payload)
{
    /// <summary>The block's shape, to compare with what a model expects.</summary>
    public KvBlockShape Shape => new(LayerCount, TokenCount, DType, Payload.Length);
}
