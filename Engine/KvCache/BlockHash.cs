using System.Buffers.Binary;
using System.Globalization;

namespace Fathom.Engine.KvCache;

/// <summary>
/// The 256-bit key of a full KV block in the prefix cache: the SHA-256 of the parent key, the model fingerprint and
/// the block's token ids (see <see cref="BlockHasher"/>). Equal keys mean equal K/V contents; a collision between
/// two different prefixes is as hard as a SHA-256 collision.
/// </summary>
/// <param name="High">The digest's first 16 bytes, big-endian.</param>
/// <param name="Low">The digest's last 16 bytes, big-endian.</param>
public readonly record struct BlockHash(UInt128 High, UInt128 Low)
{
    /// <summary>Bytes of a key.</summary>
    public const int Size = 32;

    /// <summary>The parent key of the first block of a sequence that has no cache salt.</summary>
    public static BlockHash Root => default;

    /// <summary>A key from its 32 digest bytes.</summary>
    public static BlockHash Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt128BigEndian(source), BinaryPrimitives.ReadUInt128BigEndian(source[16..Size]));

    /// <summary>Writes the 32 digest bytes (the inverse of <see cref="Read"/>).</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt128BigEndian(destination, High);
        BinaryPrimitives.WriteUInt128BigEndian(destination[16..Size], Low);
    }

    /// <summary>64 lowercase hex digits (the digest in order), usable as a storage key.</summary>
    public override string ToString() =>
        High.ToString("x32", CultureInfo.InvariantCulture) + Low.ToString("x32", CultureInfo.InvariantCulture);
}
