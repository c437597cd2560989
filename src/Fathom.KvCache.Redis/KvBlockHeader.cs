using System.Buffers.Binary;

namespace Fathom.KvCache.Redis;

/// <summary>
/// The fixed 64-byte header that starts every stored value (little-endian). Layout, format version 1:
/// <code>
///  0  4  magic "FKVB"
///  4  2  format version (1)
///  6  2  flags (bit 0: an HMAC-SHA256 follows the checksum)
///  8 16  model fingerprint (UInt128)
/// 24 16  block hash (UInt128)
/// 40  4  layer count
/// 44  4  token count
/// 48  1  dtype (<see cref="KvBlockDType"/>)
/// 49  3  reserved (0)
/// 52  4  chunk count (0: payload inline after the header; n: payload in keys "key:0".."key:n-1")
/// 56  8  payload length in bytes
/// </code>
/// After the header (and the inline payload, if any) comes the trailer: an 8-byte XxHash3 of header + payload, then
/// the 32-byte HMAC-SHA256 of header + payload when flag bit 0 is set.
/// </summary>
internal readonly record struct KvBlockHeader(
    ushort Flags,
    UInt128 Fingerprint,
    UInt128 BlockHash,
    int LayerCount,
    int TokenCount,
    KvBlockDType DType,
    int ChunkCount,
    long PayloadLength)
{
    public const int Size = 64;
    public const ushort FormatVersion = 1;
    public const ushort HmacFlag = 1;
    public const int ChecksumSize = 8;
    public const int HmacSize = 32;
    private const uint Magic = 0x42564B46; // "FKVB" read as little-endian

    public bool HasHmac => (Flags & HmacFlag) != 0;

    public int TrailerSize => ChecksumSize + (HasHmac ? HmacSize : 0);

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Flags);
        BinaryPrimitives.WriteUInt128LittleEndian(destination[8..], Fingerprint);
        BinaryPrimitives.WriteUInt128LittleEndian(destination[24..], BlockHash);
        BinaryPrimitives.WriteInt32LittleEndian(destination[40..], LayerCount);
        BinaryPrimitives.WriteInt32LittleEndian(destination[44..], TokenCount);
        destination[48] = (byte)DType;
        BinaryPrimitives.WriteInt32LittleEndian(destination[52..], ChunkCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[56..], PayloadLength);
    }

    /// <summary>Parses and checks the header against what the caller expects under this key.</summary>
    public static bool TryRead(
        ReadOnlySpan<byte> source, KvModelFingerprint fingerprint, UInt128 blockHash,
        out KvBlockHeader header, out KvRejectReason reason)
    {
        header = default;
        if (source.Length < Size)
        {
            reason = KvRejectReason.Truncated;
            return false;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
        {
            reason = KvRejectReason.BadMagic;
            return false;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(source[4..]) != FormatVersion)
        {
            reason = KvRejectReason.UnsupportedVersion;
            return false;
        }

        header = new KvBlockHeader(
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadUInt128LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt128LittleEndian(source[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[40..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[44..]),
            (KvBlockDType)source[48],
            BinaryPrimitives.ReadInt32LittleEndian(source[52..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[56..]));

        if (header.Fingerprint != fingerprint.Value)
        {
            reason = KvRejectReason.WrongFingerprint;
            return false;
        }

        if (header.BlockHash != blockHash)
        {
            reason = KvRejectReason.WrongBlockHash;
            return false;
        }

        if (header.LayerCount <= 0 || header.TokenCount <= 0 || header.ChunkCount < 0
            || header.PayloadLength < 0 || header.PayloadLength > Array.MaxLength)
        {
            reason = KvRejectReason.BadHeader;
            return false;
        }

        reason = default;
        return true;
    }
}
