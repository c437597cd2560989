using Fathom.Engine.KvCache;

namespace Fathom.KvCache.Redis.Tests;

internal static class TestBlocks
{
    // A 1B-shape block: 16 layers × (K, V) × 16 tokens × 8 kv-heads × 64 dims × 2 bytes (f16) = 512 KiB.
    public const int Layers = 16;
    public const int Tokens = 16;
    public const int BlockBytes = Layers * 2 * Tokens * 8 * 64 * 2;

    public static KvModelFingerprint Fingerprint(string digest = "weights-a") => KvModelFingerprint.Create(Description(digest));

    public static KvModelDescription Description(string digest = "weights-a") => new()
    {
        Architecture = "llama",
        LayerCount = Layers,
        EmbeddingLength = 2048,
        HeadCount = 32,
        KvHeadCount = 8,
        HeadDimension = 64,
        RopeFrequencyBase = 500000,
        KvDType = KvBlockDType.F16,
        BlockTokens = Tokens,
        TensorLayoutDigest = digest,
        PayloadLayout = "layer,kv,token,head,dim",
    };

    /// <summary>The shape of <see cref="Block"/>'s blocks (default size), as a model would expect them.</summary>
    public static KvBlockShape Shape { get; } = new(Layers, Tokens, KvBlockDType.F16, BlockBytes);

    public static KvBlockShape ShapeOf(int bytes) => Shape with { PayloadBytes = bytes };

    public static BlockHash Hash(int i) => new(new(0xF00D_0000_0000_0000UL + (uint)i, 0x1234_5678_9ABC_DEF0UL ^ (uint)i), (UInt128)(uint)i * 0x9E3779B97F4A7C15UL);

    public static KvBlock Block(int i, int bytes = BlockBytes)
    {
        var payload = new byte[bytes]; // (layer, kv, token, kv_head, head_dim) f16
        new Random(i).NextBytes(payload);
        return new KvBlock(Hash(i), Layers, Tokens, KvBlockDType.F16, payload);
    }

    public static IReadOnlyList<BlockHash> Hashes(params int[] indices) => [.. indices.Select(Hash)];
}
