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
        Assert.Equal(["auto", "f16", "f32", "fp8"], KvCacheDataTypes.AllNames);
        Assert.True(KvCacheDataTypes.TryParse("fp8", out var fp8));
        Assert.Equal(KvCacheDataType.Fp8, fp8);
        Assert.True(KvCacheDataTypes.TryParse("FP8_E4M3", out fp8)); // vLLM's explicit spelling
        Assert.Equal(KvCacheDataType.Fp8, fp8);
        Assert.Equal("fp8", KvCacheDataTypes.ToName(KvCacheDataType.Fp8));
        Assert.False(KvCacheDataTypes.TryParse("fp8_e5m2", out _));
        Assert.Equal(1, KvCacheDataTypes.SizeOf(KvCacheDataType.Fp8));
        foreach (var backend in (ComputeBackendKind[])[ComputeBackendKind.Cpu, ComputeBackendKind.Reference, ComputeBackendKind.Cuda, ComputeBackendKind.IlgpuCpu])
        {
            Assert.Equal(KvCacheDataType.Fp8, KvCacheDataTypeSelection.Resolve(KvCacheDataType.Fp8, backend));
        }

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

    [Fact]
    public void An_fp8_cache_takes_half_the_bytes_of_f16_and_has_its_own_fingerprint()
    {
        Assert.Equal(163_840, KvCacheSizing.BytesPerToken(80, 8 * 128, KvCacheDataType.Fp8)); // the 70B target: half of f16
        var fp8Storage = new PagedKvStorage(5, 8, 16, 4, 8, KvCacheDataType.Fp8);
        Assert.Equal(new PagedKvStorage(5, 8, 16, 4, 8, KvCacheDataType.F16).BlockBytes / 2, fp8Storage.BlockBytes);
        Assert.Throws<InvalidOperationException>(() => fp8Storage.HalfKeys(0));

        using var f16 = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 4, Threads = 1 });
        using var fp8 = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 4, Threads = 1, KvCacheDataType = KvCacheDataType.Fp8 });
        using var referenceFp8 = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 4, Backend = ComputeBackendKind.Reference, KvCacheDataType = KvCacheDataType.Fp8 });
        Assert.Equal(KvCacheDataType.Fp8, fp8.KvCacheDataType);
        Assert.Equal(f16.KvCacheBytes / 2, fp8.KvCacheBytes);
        Assert.NotEqual(f16.Fingerprint, fp8.Fingerprint);
        Assert.Equal(fp8.Fingerprint, referenceFp8.Fingerprint);

        var options = new ServedModelOptions { KvCacheMemoryBytes = 1L << 20, Threads = 1 };
        using var servedF16 = ServedModel.Load(Stories, options);
        using var servedFp8 = ServedModel.Load(Stories, options with { KvCacheDataType = KvCacheDataType.Fp8 });
        Assert.Equal(2 * servedF16.Model.KvBlockCount, servedFp8.Model.KvBlockCount);
    }

    [Fact]
    public void Fp8_kv_on_the_cpu_backend_matches_the_reference_backend_on_fp8_kv_and_stays_near_f32()
    {
        using var cpu = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 8, Threads = 2, KvCacheDataType = KvCacheDataType.Fp8 });
        using var reference = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 8, Backend = ComputeBackendKind.Reference, KvCacheDataType = KvCacheDataType.Fp8 });
        using var f32 = LlamaModel.Load(Stories, new ModelLoadOptions { KvBlockCount = 8, Threads = 2, KvCacheDataType = KvCacheDataType.F32 });
        var greedy = ModelRunner.Greedy(cpu, OnceUponATime, 24);
        Assert.Equal(ModelRunner.Greedy(reference, OnceUponATime, 24), greedy);

        // Same fp8 values in both caches: the logits differ by the backends' f32 arithmetic (and a rare K/V value on a
        // rounding boundary), not by the cache format.
        var cpuLogits = ModelRunner.LastLogits(cpu, OnceUponATime);
        var sameFormat = ModelRunner.RelativeError(cpuLogits, ModelRunner.LastLogits(reference, OnceUponATime));
        Assert.True(sameFormat < 5e-3, $"cpu fp8 vs reference fp8: relative logit error {sameFormat:E3}");

        // Against f32 K/V: e4m3 rounds each element by up to 2^-4 relative, so the logits move visibly but stay close.
        var toF32 = ModelRunner.RelativeError(cpuLogits, ModelRunner.LastLogits(f32, OnceUponATime));
        Assert.True(toF32 is > 0 and < 0.1, $"fp8 vs f32 KV: relative logit error {toF32:E3}");
    }
}
