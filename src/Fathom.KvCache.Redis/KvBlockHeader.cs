using System.Buffers.Binary;
using System.Security.Cryptography;
using Fathom.Engine.KvCache;

namespace Fathom.KvCache.Redis;

/// <summary>
/// The fixed 96-byte header that starts every stored value (little-endian integers). Layout, format version 2:
/// <code>
///  0  4  magic "FKVB"
///  4  2  format version (2)
///  6  2  flags (bit 0: signed: the header tag and an HMAC-SHA256 trailer are set)
///  8 16  model fingerprint (UInt128)
/// 24 32  block hash (SHA-256 digest, <see cref="BlockHash"/>)
/// 56  4  layer count
/// 60  4  token count
/// 64  1  dtype (<see cref="KvBlockDType"/>)
/// 65  3  reserved (0)
/// 68  4  chunk count (0: payload inline after the header; n: payload in keys "key:0".."key:n-1")
/// 72  8  payload length in bytes
/// 80 16  header tag: the first 16 bytes of HMAC-SHA256(key, bytes 0..79) when signed, else 0
/// </code>
/// After the header (and the inline payload, if any) comes the trailer: an 8-byte XxHash3 of header + payload, then
/// the 32-byte HMAC-SHA256 of header + payload when signed. The header tag lets a reader reject a forged header
/// from the header alone, before it reads any payload.
/// </summary>
internal readonly record struct KvBlockHeader(
    ushort Flags,
    UInt128 Fingerprint,
    BlockHash BlockHash,
    int LayerCount,
    int TokenCount,
    KvBlockDType DType,
    int ChunkCount,
    long PayloadLength)
{
    public const int Size = 96;
    public const ushort FormatVersion = 2;
    public const ushort HmacFlag = 1;
    public const int ChecksumSize = 8;
    public const int HmacSize = 32;
    private const int TagOffset = 80;
    private const int TagSize = 16;
    private const uint Magic = 0x42564B46; // "FKVB" read as little-endian

    public bool HasHmac => (Flags & HmacFlag) != 0;

    public int TrailerSize => ChecksumSize + (HasHmac ? HmacSize : 0);

    /// <summary>Bytes of the value under the block's key: header, inline payload (if any), trailer.</summary>
    public long ManifestLength => Size + (ChunkCount == 0 ? PayloadLength : 0) + TrailerSize;

    /// <summary>Writes the header, with its tag when <paramref name="hmacKey"/> is given (and <see cref="HmacFlag"/> set).</summary>
    public void Write(Span<byte> destination, byte[]? hmacKey)
    {
        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Flags);
        BinaryPrimitives.WriteUInt128LittleEndian(destination[8..], Fingerprint);
        BlockHash.Write(destination[24..]);
        BinaryPrimitives.WriteInt32LittleEndian(destination[56..], LayerCount);
        BinaryPrimitives.WriteInt32LittleEndian(destination[60..], TokenCount);
        destination[64] = (byte)DType;
        BinaryPrimitives.WriteInt32LittleEndian(destination[68..], ChunkCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[72..], PayloadLength);
        if (hmacKey is not null && HasHmac)
        {
            Tag(hmacKey, destination[..TagOffset], destination.Slice(TagOffset, TagSize));
        }
    }

    /// <summary>
    /// Parses the header and checks all of it against what the reader expects under this key: the model, the block,
    /// the signature (when <paramref name="hmacKey"/> is set), the model's block shape, and a chunk count consistent
    /// with the payload length and <paramref name="chunkBytes"/>. A header that passes names exactly one block of
    /// <paramref name="shape"/>, so reading on costs at most one block.
    /// </summary>
    public static bool TryRead(
        ReadOnlySpan<byte> source, KvModelFingerprint fingerprint, BlockHash blockHash, KvBlockShape shape, int chunkBytes,
        byte[]? hmacKey, out KvBlockHeader header, out KvRejectReason reason)
    {
        header = default;
        if (source.Length < Size)
        {
            return Reject(KvRejectReason.Truncated, out reason);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
        {
            return Reject(KvRejectReason.BadMagic, out reason);
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(source[4..]) != FormatVersion)
        {
            return Reject(KvRejectReason.UnsupportedVersion, out reason);
        }

        header = new KvBlockHeader(
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadUInt128LittleEndian(source[8..]),
            BlockHash.Read(source[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[56..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[60..]),
            (KvBlockDType)source[64],
            BinaryPrimitives.ReadInt32LittleEndian(source[68..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[72..]));

        if ((header.Flags & ~HmacFlag) != 0 || source[65] != 0 || source[66] != 0 || source[67] != 0)
        {
            return Reject(KvRejectReason.BadHeader, out reason);
        }

        if (hmacKey is not null)
        {
            if (!header.HasHmac)
            {
                return Reject(KvRejectReason.HmacMissing, out reason);
            }

            Span<byte> tag = stackalloc byte[TagSize];
            Tag(hmacKey, source[..TagOffset], tag);
            if (!CryptographicOperations.FixedTimeEquals(tag, source.Slice(TagOffset, TagSize)))
            {
                return Reject(KvRejectReason.HmacMismatch, out reason);
            }
        }

        if (header.Fingerprint != fingerprint.Value)
        {
            return Reject(KvRejectReason.WrongFingerprint, out reason);
        }

        if (header.BlockHash != blockHash)
        {
            return Reject(KvRejectReason.WrongBlockHash, out reason);
        }

        if (header.LayerCount != shape.LayerCount || header.TokenCount != shape.TokenCount || header.DType != shape.DType
            || header.PayloadLength != shape.PayloadBytes)
        {
            return Reject(KvRejectReason.WrongShape, out reason);
        }

        if (header.ChunkCount != KvBlockShape.ChunkCountOf(header.PayloadLength, chunkBytes))
        {
            return Reject(KvRejectReason.BadHeader, out reason);
        }

        reason = default;
        return true;
    }

    private static void Tag(byte[] hmacKey, ReadOnlySpan<byte> fields, Span<byte> tag)
    {
        Span<byte> mac = stackalloc byte[HmacSize];
        HMACSHA256.HashData(hmacKey, fields, mac);
        mac[..TagSize].CopyTo(tag);
    }

    private static bool Reject(KvRejectReason why, out KvRejectReason reason)
    {
        reason = why;
        return false;
    }
}
