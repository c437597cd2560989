using System.IO.Hashing;
using System.Security.Cryptography;
using Fathom.Engine.KvCache;

namespace Fathom.KvCache.Redis;

/// <summary>A block encoded for storage: the value under the block's key, plus chunk values for large payloads.</summary>
/// <param name="Manifest">The value stored under the block's key (header, inline payload or none, trailer).</param>
/// <param name="Chunks">Values for keys <c>key:0..n-1</c>; empty when the payload is inline.</param>
internal sealed record KvEncodedBlock(byte[] Manifest, ReadOnlyMemory<byte>[] Chunks)
{
    public long TotalBytes => Manifest.LongLength + Chunks.Sum(c => (long)c.Length);
}

/// <summary>Encodes and validates stored block values (see <see cref="KvBlockHeader"/> for the layout).</summary>
internal static class KvBlockCodec
{
    public static KvEncodedBlock Encode(KvModelFingerprint fingerprint, KvBlock block, byte[]? hmacKey, int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        var payload = block.Payload;
        int chunkCount = KvBlockShape.ChunkCountOf(payload.Length, chunkBytes);
        var header = new KvBlockHeader(
            hmacKey is null ? (ushort)0 : KvBlockHeader.HmacFlag,
            fingerprint.Value, block.Hash, block.LayerCount, block.TokenCount, block.DType, chunkCount, payload.Length);

        int inline = chunkCount == 0 ? payload.Length : 0;
        var manifest = new byte[header.ManifestLength];
        header.Write(manifest, hmacKey);
        payload.Span[..inline].CopyTo(manifest.AsSpan(KvBlockHeader.Size));

        var headerBytes = manifest.AsSpan(0, KvBlockHeader.Size);
        var trailer = manifest.AsSpan(KvBlockHeader.Size + inline);
        var checksum = new XxHash3();
        checksum.Append(headerBytes);
        checksum.Append(payload.Span);
        checksum.GetCurrentHash(trailer[..KvBlockHeader.ChecksumSize]);
        if (hmacKey is not null)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, hmacKey);
            hmac.AppendData(headerBytes);
            hmac.AppendData(payload.Span);
            hmac.GetCurrentHash(trailer[KvBlockHeader.ChecksumSize..]);
        }

        var chunks = new ReadOnlyMemory<byte>[chunkCount];
        for (int i = 0; i < chunkCount; i++)
        {
            int start = i * chunkBytes;
            chunks[i] = payload.Slice(start, Math.Min(chunkBytes, payload.Length - start));
        }

        return new KvEncodedBlock(manifest, chunks);
    }

    /// <summary>The exact length of chunk <paramref name="index"/> of a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int ChunkLength(long payloadLength, int chunkBytes, int index) =>
        (int)Math.Min(chunkBytes, payloadLength - ((long)index * chunkBytes));

    /// <summary>
    /// Validates a fetched value (and its chunks, when the header names some) and returns the block. Never throws on
    /// bad data: a value that is not exactly what this key should hold, in the model's <paramref name="shape"/>, is
    /// rejected with a reason.
    /// </summary>
    public static bool TryDecode(
        KvModelFingerprint fingerprint, BlockHash blockHash, KvBlockShape shape, int chunkBytes, byte[] manifest,
        IReadOnlyList<byte[]?>? chunks, byte[]? hmacKey, out KvBlock? block, out KvRejectReason reason)
    {
        block = null;
        if (!KvBlockHeader.TryRead(manifest, fingerprint, blockHash, shape, chunkBytes, hmacKey, out var header, out reason))
        {
            return false;
        }

        if (manifest.LongLength != header.ManifestLength)
        {
            reason = KvRejectReason.Truncated;
            return false;
        }

        long inline = header.ChunkCount == 0 ? header.PayloadLength : 0;
        ReadOnlyMemory<byte> payload;
        if (header.ChunkCount == 0)
        {
            payload = manifest.AsMemory(KvBlockHeader.Size, (int)header.PayloadLength);
        }
        else
        {
            if (!TryAssemble(header, chunkBytes, chunks, out var assembled, out reason))
            {
                return false;
            }

            payload = assembled;
        }

        var headerBytes = manifest.AsSpan(0, KvBlockHeader.Size);
        var trailer = manifest.AsSpan((int)(KvBlockHeader.Size + inline));
        var checksum = new XxHash3();
        checksum.Append(headerBytes);
        checksum.Append(payload.Span);
        Span<byte> expected = stackalloc byte[KvBlockHeader.HmacSize];
        checksum.GetCurrentHash(expected[..KvBlockHeader.ChecksumSize]);
        if (!expected[..KvBlockHeader.ChecksumSize].SequenceEqual(trailer[..KvBlockHeader.ChecksumSize]))
        {
            reason = KvRejectReason.ChecksumMismatch;
            return false;
        }

        if (hmacKey is not null)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, hmacKey);
            hmac.AppendData(headerBytes);
            hmac.AppendData(payload.Span);
            hmac.GetCurrentHash(expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, trailer[KvBlockHeader.ChecksumSize..]))
            {
                reason = KvRejectReason.HmacMismatch;
                return false;
            }
        }

        block = new KvBlock(blockHash, header.LayerCount, header.TokenCount, header.DType, payload);
        return true;
    }

    private static bool TryAssemble(
        KvBlockHeader header, int chunkBytes, IReadOnlyList<byte[]?>? chunks, out byte[] payload, out KvRejectReason reason)
    {
        payload = [];
        if (chunks is null || chunks.Count != header.ChunkCount || chunks.Any(c => c is null || c.Length == 0))
        {
            reason = KvRejectReason.MissingChunk;
            return false;
        }

        // Every chunk is exactly its share: the header was checked against the model, so the total is one block.
        for (int i = 0; i < chunks.Count; i++)
        {
            if (chunks[i]!.Length != ChunkLength(header.PayloadLength, chunkBytes, i))
            {
                reason = KvRejectReason.Truncated;
                return false;
            }
        }

        payload = new byte[header.PayloadLength];
        long offset = 0;
        foreach (var chunk in chunks)
        {
            chunk!.CopyTo(payload, offset);
            offset += chunk.LongLength;
        }

        reason = default;
        return true;
    }
}
