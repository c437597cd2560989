namespace Fathom.Engine.KvCache;

/// <summary>
/// Block-level access to a model's KV cache, for tiers that copy whole blocks in and out. A payload holds every
/// layer's keys then values for the block's positions: // (layers, 2, block_size, n_head_kv, head_dim) f32.
/// </summary>
/// <remarks>Call only from the engine loop thread, between forward steps.</remarks>
public interface IKvBlockStorage
{
    /// <summary>Floats in one block payload.</summary>
    int BlockFloats { get; }

    /// <summary>Copies physical block <paramref name="block"/> into <paramref name="destination"/> (exactly <see cref="BlockFloats"/> long).</summary>
    void ReadBlock(int block, Span<float> destination);

    /// <summary>Overwrites physical block <paramref name="block"/> with <paramref name="source"/> (exactly <see cref="BlockFloats"/> long).</summary>
    void WriteBlock(int block, ReadOnlySpan<float> source);

    /// <summary>Copies physical block <paramref name="source"/> onto block <paramref name="destination"/> (copy-on-write forks).</summary>
    void CopyBlock(int source, int destination);
}
