namespace Fathom.Engine.KvCache;

/// <summary>
/// Block-level access to a model's KV cache, for tiers that copy whole blocks in and out. A payload holds every
/// layer's keys then values for the block's positions, little-endian elements of <see cref="DataType"/>:
/// // (layers, 2, block_size, n_head_kv, head_dim).
/// </summary>
/// <remarks>Call only from the engine loop thread, between forward steps.</remarks>
public interface IKvBlockStorage
{
    /// <summary>The element type of a payload (f32 or f16; never <see cref="KvCacheDataType.Auto"/>).</summary>
    KvCacheDataType DataType { get; }

    /// <summary>Bytes in one block payload.</summary>
    int BlockBytes { get; }

    /// <summary>Copies physical block <paramref name="block"/> into <paramref name="destination"/> (exactly <see cref="BlockBytes"/> long).</summary>
    void ReadBlock(int block, Span<byte> destination);

    /// <summary>Overwrites physical block <paramref name="block"/> with <paramref name="source"/> (exactly <see cref="BlockBytes"/> long).</summary>
    void WriteBlock(int block, ReadOnlySpan<byte> source);

    /// <summary>Copies physical block <paramref name="source"/> onto block <paramref name="destination"/> (copy-on-write forks).</summary>
    void CopyBlock(int source, int destination);
}
