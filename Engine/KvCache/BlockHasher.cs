using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Fathom.Engine.KvCache;

/// <summary>
/// Computes the chained key of a full block: SHA-256(parent key, model fingerprint, the block's token ids). The
/// first block's parent is <see cref="RootFor"/> the request's cache salt, so requests with different salts never
/// share a block, locally or through a shared tier.
/// </summary>
/// <remarks>
/// SHA-256 rather than a fast non-cryptographic hash: prompts are chosen by callers, and with a 128-bit xxHash a
/// caller could search for two prefixes with one key and have one tenant served another's K/V. Hashing is a few
/// hundred nanoseconds per 16-token block, noise beside the forward pass.
/// </remarks>
public static class BlockHasher
{
    private const int HeaderBytes = BlockHash.Size + 16;
    private static readonly byte[] SaltDomain = Encoding.ASCII.GetBytes("fathom-cache-salt/v1\0");

    /// <summary>The key of a block whose predecessor has key <paramref name="parent"/> (<see cref="RootFor"/> for the first).</summary>
    /// <remarks>Bytes are hashed in a fixed layout (token ids little-endian) so keys agree across machines (a shared tier relies on it).</remarks>
    public static BlockHash Hash(BlockHash parent, ReadOnlySpan<int> blockTokens, ModelFingerprint fingerprint)
    {
        int length = HeaderBytes + (blockTokens.Length * sizeof(int));
        byte[]? rented = null;
        Span<byte> buffer = length <= 1024 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        buffer = buffer[..length];
        parent.Write(buffer);
        BinaryPrimitives.WriteUInt128LittleEndian(buffer[BlockHash.Size..], fingerprint.Value);
        for (int i = 0; i < blockTokens.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer[(HeaderBytes + (i * sizeof(int)))..], blockTokens[i]);
        }

        Span<byte> digest = stackalloc byte[BlockHash.Size];
        SHA256.HashData(buffer, digest);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return BlockHash.Read(digest);
    }

    /// <summary>
    /// The parent key of a sequence's first block: <see cref="BlockHash.Root"/> without a salt, else a digest of the
    /// salt (domain-separated, so it can never equal a block key or the unsalted root).
    /// </summary>
    /// <param name="cacheSalt">The request's <c>cache_salt</c>; null or empty: none.</param>
    public static BlockHash RootFor(string? cacheSalt)
    {
        if (string.IsNullOrEmpty(cacheSalt))
        {
            return BlockHash.Root;
        }

        var bytes = new byte[SaltDomain.Length + Encoding.UTF8.GetByteCount(cacheSalt)];
        SaltDomain.CopyTo(bytes, 0);
        Encoding.UTF8.GetBytes(cacheSalt, bytes.AsSpan(SaltDomain.Length));
        return BlockHash.Read(SHA256.HashData(bytes));
    }

    /// <summary>
    /// Extends <paramref name="hashes"/> (the keys of the leading full blocks of <paramref name="tokens"/>, already
    /// computed) until it holds the keys of the first <paramref name="fullBlocks"/> blocks.
    /// </summary>
    /// <param name="hashes">The memo of keys, extended in place.</param>
    /// <param name="tokens">The sequence's tokens.</param>
    /// <param name="blockSize">Tokens per block.</param>
    /// <param name="fullBlocks">How many leading keys are wanted.</param>
    /// <param name="fingerprint">The model.</param>
    /// <param name="root">The first block's parent: <see cref="RootFor"/> the sequence's cache salt.</param>
    public static void ExtendChain(
        List<BlockHash> hashes, ReadOnlySpan<int> tokens, int blockSize, int fullBlocks, ModelFingerprint fingerprint, BlockHash root = default)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        while (hashes.Count < fullBlocks)
        {
            int i = hashes.Count;
            var parent = i == 0 ? root : hashes[i - 1];
            hashes.Add(Hash(parent, tokens.Slice(i * blockSize, blockSize), fingerprint));
        }
    }
}
