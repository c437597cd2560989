using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Serving;
using Fathom.Engine.Tests.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.KvCache;

/// <summary>The KV cache's element type: f16 by default on the CPU backend, f32 on request; sizing, identity and tokens.</summary>
public sealed class KvCacheDataTypeTests
{
    private static readonly int[] OnceUponATime = [1, 403, 407, 261, 378];

    private static string Stories => SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    [Fact]
    public void An_f16_cache_takes_half_the_bytes_per_token_and_a_budget_holds_twice_the_blocks()
    {
        // The 70B target: 80 layers, 8 KV heads of 128.
        long f32 = KvCacheSizing.BytesPerToken(80, 8 * 128, KvCacheDataType.F32);
        long f16 = KvCacheSizing.BytesPerToken(80, 8 * 128, KvCacheDataType.F16);
        Assert.Equal(655_360, f32);
        Assert.Equal(327_680, f16);
        Assert.Equal(2 * KvCacheSizing.BlocksFor(1L << 30, f32), KvCacheSizing.BlocksFor(1L << 30, f16));
        Assert.Throws<ArgumentOutOfRangeException>(() => KvCacheSizing.BytesPerToken(80, 1024, KvCacheDataType.Auto));

        var f32Storage = new PagedKvStorage(5, 8, 16, 4, 8, KvCacheDataType.F32);
        var f16Storage = new PagedKvStorage(5, 8, 16, 4, 8, KvCacheDataType.F16);
        Assert.Equal(f32Storage.ByteSize / 2, f16Storage.ByteSize);
        Assert.Equal(f32Storage.BlockBytes / 2, f16Storage.BlockBytes);
        Assert.Equal(2L * 5 * 8 * 16 * 4 * 8 * 2, f16Storage.ByteSize);
    }

    [Fact]
    public void Names_parse_and_auto_resolves_per_backend()
    {
        Assert.Equal(["auto", "f16", "f32"], KvCacheDataTypes.AllNames);
        Assert.True(KvCacheDataTypes.TryParse("F16", out var parsed));
        Assert.Equal(KvCacheDataType.F16, parsed);
        Assert.False(KvCacheDataTypes.TryParse("bf16", out _));
        Assert.False(KvCacheDataTypes.TryParse(null, out _));
        Assert.Equal(KvCacheDataType.F16, KvCacheDataTypeSelection.Resolve(KvCacheDataType.Auto, ComputeBackendKind.Cpu));
        Assert.Equal(KvCacheDataType.F32, KvCacheDataTypeSelection.Resolve(KvCacheDataType.Auto, ComputeBackendKind.Reference));
        Assert.Equal(KvCacheDataType.F16, KvCacheDataTypeSelection.Resolve(KvCacheDataType.F16, ComputeBackendKind.Reference));
        Assert.Equal(KvCacheDataType.F32, KvCacheDataTypeSelection.Resolve(KvCacheDataType.F32, ComputeBackendKind.Cpu));
        Assert.Throws<NotSupportedException>(() => KvCacheDataTypeSelection.Resolve(KvCacheDataType.F32, ComputeBackendKind.Cuda));
        Assert.Throws<NotSupportedException>(() => KvCacheDataTypeSelection.Resolve((KvCacheDataType)7, ComputeBackendKind.Cpu));
    }

    [Fact]
    public void The_cpu_backend_caches_f16_by_default_and_the_dtype_is_part_of_the_fingerprint()
    {
        using var auto = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 4, Threads = 1 });
        using var f32 = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 4, Threads = 1, KvCacheDataType = KvCacheDataType.F32 });
        using var reference = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 4, Backend = ComputeBackendKind.Reference });
        Assert.Equal(KvCacheDataType.F16, auto.KvCacheDataType);
        Assert.Equal(KvCacheDataType.F32, f32.KvCacheDataType);
        Assert.Equal(KvCacheDataType.F32, reference.KvCacheDataType);
        Assert.Equal(f32.KvCacheBytes / 2, auto.KvCacheBytes);
        Assert.NotEqual(f32.Fingerprint, auto.Fingerprint);
        Assert.Equal(f32.Fingerprint, reference.Fingerprint);
    }

    [Fact]
    public void A_served_model_sizes_its_pool_by_the_dtype()
    {
        var options = new ServedModelOptions { KvCacheMemoryBytes = 1L << 20, Threads = 1 };
        using var f16 = ServedModel.Load(Stories, options);
        using var f32 = ServedModel.Load(Stories, options with { KvCacheDataType = KvCacheDataType.F32 });
        var hp = f16.Model.HyperParameters;
        Assert.Equal(ServedModel.KvBytesPerToken(hp, KvCacheDataType.F32) / 2, ServedModel.KvBytesPerToken(hp, KvCacheDataType.F16));
        Assert.Equal(2 * f32.Model.KvBlockCount, f16.Model.KvBlockCount);
        Assert.Equal(f32.Model.KvCacheBytes, f16.Model.KvCacheBytes);
    }

    [Fact]
    public void Greedy_tokens_on_stories260K_are_the_same_with_f16_and_f32_kv()
    {
        using var f16 = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 8, Threads = 2, KvCacheDataType = KvCacheDataType.F16 });
        using var f32 = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 8, Threads = 2, KvCacheDataType = KvCacheDataType.F32 });
        Assert.Equal(ModelRunner.Greedy(f32, OnceUponATime, 48), ModelRunner.Greedy(f16, OnceUponATime, 48));

        // The logits move by the rounding of K/V to f16 only (about 2^-11 relative per element).
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(f16, OnceUponATime), ModelRunner.LastLogits(f32, OnceUponATime));
        Assert.True(error < 5e-3, $"relative logit error {error:E3}");
    }
}
