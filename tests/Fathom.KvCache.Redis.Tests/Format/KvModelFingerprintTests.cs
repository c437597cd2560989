namespace Fathom.KvCache.Redis.Tests.Format;

public class KvModelFingerprintTests
{
    [Fact]
    public void Every_field_that_affects_kv_changes_the_fingerprint()
    {
        var baseline = TestBlocks.Description();
        KvModelDescription[] variants =
        [
            baseline with { Architecture = "qwen2" },
            baseline with { LayerCount = 17 },
            baseline with { EmbeddingLength = 4096 },
            baseline with { HeadCount = 16 },
            baseline with { KvHeadCount = 4 },
            baseline with { HeadDimension = 128 },
            baseline with { RopeFrequencyBase = 10000 },
            baseline with { RopeScaling = "llama3:8" },
            baseline with { KvDType = KvBlockDType.Q8_0 },
            baseline with { BlockTokens = 32 },
            baseline with { TensorLayoutDigest = "weights-b" },
            baseline with { PayloadLayout = "layer,kv,head,token,dim" },
        ];

        var all = variants.Select(KvModelFingerprint.Create).Append(KvModelFingerprint.Create(baseline)).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(KvModelFingerprint.Create(baseline), KvModelFingerprint.Create(baseline with { }));
    }

    [Fact]
    public void The_hex_form_is_32_lowercase_digits()
    {
        var hex = TestBlocks.Fingerprint().Hex;
        Assert.Matches("^[0-9a-f]{32}$", hex);
    }
}
