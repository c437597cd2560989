using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace Fathom.Engine.KvCache;

/// <summary>Computes the chained key of a full block: H(parent key, model fingerprint, the block's token ids).</summary>
public static class BlockHasher
{
    private const int HeaderBytes = 32;

    /// <summary>The key of a block whose predecessor has key <paramref name="parent"/> (<see cref="BlockHash.Root"/> for the first).</summary>
    /// <remarks>Bytes are hashed in a fixed little-endian layout so keys agree across machines (a shared tier relies on it).</remarks>
    public static BlockHash Hash(BlockHash parent, ReadOnlySpan<int> blockTokens, ModelFingerprint fingerprint)
    {
        int length = HeaderBytes + (blockTokens.Length * sizeof(int));
        byte[]? rented = null;
        Span<byte> buffer = length <= 1024 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        buffer = buffer[..length];
        BinaryPrimitives.WriteUInt128LittleEndian(buffer, parent.Value);
        BinaryPrimitives.WriteUInt128LittleEndian(buffer[16..], fingerprint.Value);
        for (int i = 0; i < blockTokens.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer[(HeaderBytes + (i * sizeof(int)))..], blockTokens[i]);
        }

        var hash = new BlockHash(XxHash128.HashToUInt128(buffer));
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return hash;
    }

    /// <summary>
    /// Extends <paramref name="hashes"/> (the keys of the leading full blocks of <paramref name="tokens"/>, already
    /// computed) until it holds the keys of the first <paramref name="fullBlocks"/> blocks.
    /// </summary>
    public static void ExtendChain(List<BlockHash> hashes, ReadOnlySpan<int> tokens, int blockSize, int fullBlocks, ModelFingerprint fingerprint)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        while (hashes.Count < fullBlocks)
        {
            int i = hashes.Count;
            var parent = i == 0 ? BlockHash.Root : hashes[i - 1];
            hashes.Add(Hash(parent, tokens.Slice(i * blockSize, blockSize), fingerprint));
        }
    }
}
