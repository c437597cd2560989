using System.Buffers.Binary;
using Fathom.Engine.KvCache;

namespace Fathom.KvCache.Redis.Tests.Format;

public class KvBlockCodecTests
{
    private static readonly KvModelFingerprint Fp = TestBlocks.Fingerprint();
    private static readonly byte[] Key = "secret"u8.ToArray();

    private static (bool Ok, KvBlock? Block, KvRejectReason Reason) Decode(
        KvEncodedBlock encoded, BlockHash hash, int chunkBytes, KvBlockShape shape, byte[]? key = null, KvModelFingerprint? fp = null)
    {
        byte[][] chunks = [.. encoded.Chunks.Select(c => c.ToArray())];
        bool ok = KvBlockCodec.TryDecode(fp ?? Fp, hash, shape, chunkBytes, encoded.Manifest, chunks, key, out var block, out var reason);
        return (ok, block, reason);
    }

    private static KvRejectReason HeaderReason(byte[] manifest, KvBlockShape shape, int chunkBytes, byte[]? key, BlockHash? hash = null)
    {
        Assert.False(KvBlockHeader.TryRead(manifest.AsSpan(0, KvBlockHeader.Size), Fp, hash ?? TestBlocks.Hash(2), shape, chunkBytes, key, out _, out var reason));
        return reason;
    }

    [Theory]
    [InlineData(1 << 20, 0)]
    [InlineData(64 * 1024, 8)]
    [InlineData(100_000, 6)]
    public void Inline_and_chunked_values_decode_to_the_same_block(int chunkBytes, int expectedChunks)
    {
        var block = TestBlocks.Block(7);
        var encoded = KvBlockCodec.Encode(Fp, block, Key, chunkBytes);

        Assert.Equal(expectedChunks, encoded.Chunks.Length);
        var (ok, decoded, _) = Decode(encoded, block.Hash, chunkBytes, TestBlocks.Shape, Key);
        Assert.True(ok);
        Assert.Equal(block.TokenCount, decoded!.TokenCount);
        Assert.True(block.Payload.Span.SequenceEqual(decoded.Payload.Span));
    }

    [Fact]
    public void Every_single_byte_flip_of_an_inline_value_is_rejected()
    {
        var block = TestBlocks.Block(1, bytes: 256);
        var encoded = KvBlockCodec.Encode(Fp, block, Key, 1 << 20);
        for (int i = 0; i < encoded.Manifest.Length; i++)
        {
            var copy = encoded with { Manifest = (byte[])encoded.Manifest.Clone() };
            copy.Manifest[i] ^= 0x40;
            Assert.False(Decode(copy, block.Hash, 1 << 20, TestBlocks.ShapeOf(256), Key).Ok, $"flip at {i} accepted");
        }
    }

    [Fact]
    public void Every_single_byte_flip_of_a_signed_header_is_rejected_from_the_header_alone()
    {
        var block = TestBlocks.Block(2, bytes: 4096);
        var signed = KvBlockCodec.Encode(Fp, block, Key, 1024);
        Assert.True(KvBlockHeader.TryRead(signed.Manifest, Fp, block.Hash, TestBlocks.ShapeOf(4096), 1024, Key, out _, out _));
        for (int i = 0; i < KvBlockHeader.Size; i++)
        {
            var copy = (byte[])signed.Manifest.Clone();
            copy[i] ^= 0x01;
            Assert.False(KvBlockHeader.TryRead(copy, Fp, block.Hash, TestBlocks.ShapeOf(4096), 1024, Key, out _, out _), $"flip at {i} accepted");
        }
    }

    [Fact]
    public void A_header_that_disagrees_with_the_model_or_the_chunk_size_is_rejected_before_any_payload()
    {
        var block = TestBlocks.Block(2, bytes: 4096);
        var manifest = KvBlockCodec.Encode(Fp, block, null, 1024).Manifest;
        var shape = TestBlocks.ShapeOf(4096);

        Assert.Equal(KvRejectReason.WrongShape, HeaderReason(manifest, shape with { LayerCount = shape.LayerCount + 1 }, 1024, null));
        Assert.Equal(KvRejectReason.WrongShape, HeaderReason(manifest, shape with { TokenCount = 32 }, 1024, null));
        Assert.Equal(KvRejectReason.WrongShape, HeaderReason(manifest, shape with { DType = KvBlockDType.F32 }, 1024, null));
        Assert.Equal(KvRejectReason.WrongShape, HeaderReason(manifest, shape with { PayloadBytes = 8192 }, 1024, null));
        Assert.Equal(KvRejectReason.BadHeader, HeaderReason(manifest, shape, 2048, null)); // 4 chunks of 1 KiB, not 2 of 2 KiB

        var huge = (byte[])manifest.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(huge.AsSpan(68), int.MaxValue);
        Assert.Equal(KvRejectReason.BadHeader, HeaderReason(huge, shape, 1024, null));
        var reserved = (byte[])manifest.Clone();
        reserved[66] = 1;
        Assert.Equal(KvRejectReason.BadHeader, HeaderReason(reserved, shape, 1024, null));
        var flags = (byte[])manifest.Clone();
        flags[6] = 0x80;
        Assert.Equal(KvRejectReason.BadHeader, HeaderReason(flags, shape, 1024, null));
        Assert.Equal(KvRejectReason.HmacMissing, HeaderReason(manifest, shape, 1024, Key));
    }

    [Fact]
    public void Each_kind_of_bad_value_is_rejected_with_its_reason()
    {
        var block = TestBlocks.Block(2, bytes: 4096);
        var shape = TestBlocks.ShapeOf(4096);
        var signed = KvBlockCodec.Encode(Fp, block, Key, 1024);
        var plain = KvBlockCodec.Encode(Fp, block, null, 1 << 20);

        Assert.Equal(KvRejectReason.WrongBlockHash, Decode(signed, TestBlocks.Hash(3), 1024, shape, Key).Reason);
        Assert.Equal(KvRejectReason.WrongFingerprint, Decode(signed, block.Hash, 1024, shape, Key, TestBlocks.Fingerprint("other")).Reason);
        Assert.Equal(KvRejectReason.HmacMissing, Decode(plain, block.Hash, 1 << 20, shape, Key).Reason);
        Assert.Equal(KvRejectReason.HmacMismatch, Decode(signed, block.Hash, 1024, shape, "other"u8.ToArray()).Reason);
        Assert.True(Decode(signed, block.Hash, 1024, shape, key: null).Ok); // the checksum alone still guards readers without a key
        Assert.Equal(KvRejectReason.Truncated, Decode(plain with { Manifest = plain.Manifest[..^1] }, block.Hash, 1 << 20, shape).Reason);
        Assert.Equal(KvRejectReason.Truncated, Decode(plain with { Manifest = [.. plain.Manifest, 0] }, block.Hash, 1 << 20, shape).Reason);
        Assert.Equal(KvRejectReason.Truncated, Decode(plain with { Manifest = plain.Manifest[..10] }, block.Hash, 1 << 20, shape).Reason);
        Assert.Equal(KvRejectReason.MissingChunk, Decode(signed with { Chunks = signed.Chunks[..^1] }, block.Hash, 1024, shape, Key).Reason);

        var badMagic = (byte[])plain.Manifest.Clone();
        badMagic[0] = (byte)'X';
        Assert.Equal(KvRejectReason.BadMagic, Decode(plain with { Manifest = badMagic }, block.Hash, 1 << 20, shape).Reason);
        var future = (byte[])plain.Manifest.Clone();
        future[4] = 3;
        Assert.Equal(KvRejectReason.UnsupportedVersion, Decode(plain with { Manifest = future }, block.Hash, 1 << 20, shape).Reason);
        var corrupt = (byte[])plain.Manifest.Clone();
        corrupt[KvBlockHeader.Size + 5] ^= 1;
        Assert.Equal(KvRejectReason.ChecksumMismatch, Decode(plain with { Manifest = corrupt }, block.Hash, 1 << 20, shape).Reason);
        byte[][] shortChunk = [.. signed.Chunks.Select(c => c.ToArray())];
        shortChunk[1] = shortChunk[1][..100];
        Assert.False(KvBlockCodec.TryDecode(Fp, block.Hash, shape, 1024, signed.Manifest, shortChunk, Key, out _, out var reason));
        Assert.Equal(KvRejectReason.Truncated, reason);
        byte[][] longChunk = [.. signed.Chunks.Select(c => c.ToArray())];
        longChunk[0] = [.. longChunk[0], 0];
        Assert.False(KvBlockCodec.TryDecode(Fp, block.Hash, shape, 1024, signed.Manifest, longChunk, Key, out _, out reason));
        Assert.Equal(KvRejectReason.Truncated, reason);
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var random = new Random(42);
        for (int i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            if (bytes.Length >= 6)
            {
                "FKVB\u0002\u0000"u8.CopyTo(bytes);
            }

            Assert.False(KvBlockCodec.TryDecode(Fp, TestBlocks.Hash(0), TestBlocks.Shape, 1 << 20, bytes, null, Key, out _, out _));
        }
    }
}
