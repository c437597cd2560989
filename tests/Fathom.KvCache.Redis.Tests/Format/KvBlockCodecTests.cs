namespace Fathom.KvCache.Redis.Tests.Format;

public class KvBlockCodecTests
{
    private static readonly KvModelFingerprint Fp = TestBlocks.Fingerprint();
    private static readonly byte[] Key = "secret"u8.ToArray();

    private static (bool Ok, KvBlock? Block, KvRejectReason Reason) Decode(KvEncodedBlock encoded, UInt128 hash, byte[]? key = null, KvModelFingerprint? fp = null)
    {
        byte[][] chunks = [.. encoded.Chunks.Select(c => c.ToArray())];
        bool ok = KvBlockCodec.TryDecode(fp ?? Fp, hash, encoded.Manifest, chunks, key, out var block, out var reason);
        return (ok, block, reason);
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
        var (ok, decoded, _) = Decode(encoded, block.Hash, Key);
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
            Assert.False(Decode(copy, block.Hash, Key).Ok, $"flip at {i} accepted");
        }
    }

    [Fact]
    public void Each_kind_of_bad_value_is_rejected_with_its_reason()
    {
        var block = TestBlocks.Block(2, bytes: 4096);
        var signed = KvBlockCodec.Encode(Fp, block, Key, 1024);
        var plain = KvBlockCodec.Encode(Fp, block, null, 1 << 20);

        Assert.Equal(KvRejectReason.WrongBlockHash, Decode(signed, TestBlocks.Hash(3), Key).Reason);
        Assert.Equal(KvRejectReason.WrongFingerprint, Decode(signed, block.Hash, Key, TestBlocks.Fingerprint("other")).Reason);
        Assert.Equal(KvRejectReason.HmacMissing, Decode(plain, block.Hash, Key).Reason);
        Assert.Equal(KvRejectReason.HmacMismatch, Decode(signed, block.Hash, "other"u8.ToArray()).Reason);
        Assert.True(Decode(signed, block.Hash, key: null).Ok); // the checksum alone still guards readers without a key
        Assert.Equal(KvRejectReason.Truncated, Decode(plain with { Manifest = plain.Manifest[..^1] }, block.Hash).Reason);
        Assert.Equal(KvRejectReason.Truncated, Decode(plain with { Manifest = plain.Manifest[..10] }, block.Hash).Reason);
        Assert.Equal(KvRejectReason.MissingChunk, Decode(signed with { Chunks = signed.Chunks[..^1] }, block.Hash, Key).Reason);

        var badMagic = (byte[])plain.Manifest.Clone();
        badMagic[0] = (byte)'X';
        Assert.Equal(KvRejectReason.BadMagic, Decode(plain with { Manifest = badMagic }, block.Hash).Reason);
        var future = (byte[])plain.Manifest.Clone();
        future[4] = 2;
        Assert.Equal(KvRejectReason.UnsupportedVersion, Decode(plain with { Manifest = future }, block.Hash).Reason);
        var corrupt = (byte[])plain.Manifest.Clone();
        corrupt[KvBlockHeader.Size + 5] ^= 1;
        Assert.Equal(KvRejectReason.ChecksumMismatch, Decode(plain with { Manifest = corrupt }, block.Hash).Reason);
        byte[][] shortChunk = [.. signed.Chunks.Select(c => c.ToArray())];
        shortChunk[1] = shortChunk[1][..100];
        Assert.False(KvBlockCodec.TryDecode(Fp, block.Hash, signed.Manifest, shortChunk, Key, out _, out var reason));
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
            if (bytes.Length >= 4)
            {
                "FKVB"u8.CopyTo(bytes);
            }

            Assert.False(KvBlockCodec.TryDecode(Fp, TestBlocks.Hash(0), bytes, null, Key, out _, out _));
        }
    }
}
