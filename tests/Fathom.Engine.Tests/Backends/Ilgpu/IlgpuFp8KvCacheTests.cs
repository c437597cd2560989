using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.Backends.Reference;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Quantization;
using ILGPU;
using ILGPU.Runtime;
using static Fathom.Engine.Tests.Backends.Ilgpu.IlgpuKernelTests;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The fp8 e4m3 KV cache on ILGPU's CPU accelerator (32-lane warp): the device element functions of
/// <see cref="KvCacheView"/> against the host's <see cref="Fp8E4M3"/>, and paged attention over an fp8 cache against
/// the reference backend over the same fp8 values and against an f16 cache.
/// </summary>
public sealed class IlgpuFp8KvCacheTests(IlgpuCpuDevice fixture) : IClassFixture<IlgpuCpuDevice>, IDisposable
{
    private const double U = 1.0 / (1 << 24);
    private readonly ReferenceBackend _reference = new();

    [Fact]
    public void Device_decode_equals_Fp8E4M3_for_all_256_codes_read_as_pairs()
    {
        var accelerator = fixture.Device.Accelerator;
        var codes = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        using var bytes = fixture.Upload(codes);
        using var single = accelerator.Allocate1D<float>(256);
        using var pairs = accelerator.Allocate1D<float>(256);
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, KvCacheView, ArrayView<float>, ArrayView<float>>(DecodeKernel);
        kernel(128, KvCacheView.E4M3(bytes.View), single.View, pairs.View);
        var viaElement = IlgpuCpuDevice.Download(single);
        var viaPair = IlgpuCpuDevice.Download(pairs);
        for (var b = 0; b < 256; b++)
        {
            var expected = Fp8E4M3.ToSingle((byte)b);
            foreach (var actual in (float[])[viaElement[b], viaPair[b]])
            {
                Assert.Equal(float.IsNaN(expected), float.IsNaN(actual));
                if (!float.IsNaN(expected))
                {
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual)); // bit-exact: -0 stays -0
                }
            }
        }
    }

    [Fact]
    public void Device_encode_equals_Fp8E4M3_on_every_code_midpoint_and_edge()
    {
        var inputs = EncodeInputs();
        var accelerator = fixture.Device.Accelerator;
        using var values = fixture.Upload(inputs);
        using var bytes = accelerator.Allocate1D<byte>(inputs.Length);
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, KvCacheView>(EncodeKernel);
        kernel(inputs.Length, values.View, KvCacheView.E4M3(bytes.View));
        var actual = IlgpuCpuDevice.Download(bytes);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.True(Fp8E4M3.FromSingle(inputs[i]) == actual[i], $"{inputs[i]:R}: device 0x{actual[i]:X2}, host 0x{Fp8E4M3.FromSingle(inputs[i]):X2}");
            Assert.True(float.IsNaN(inputs[i]) || !Fp8E4M3.IsNaN(actual[i]), $"finite {inputs[i]:R} became NaN");
        }
    }

    [Fact]
    public void Fp8E4M3_rounds_to_the_nearest_code_ties_to_even_and_saturates()
    {
        // The oracle: the nearest finite code by search, ties to the even code (mantissa bit 0 clear).
        var finite = Enumerable.Range(0, 256).Where(b => !Fp8E4M3.IsNaN((byte)b)).Select(b => (byte)b).ToArray();
        foreach (var x in EncodeInputs().Where(v => !float.IsNaN(v)))
        {
            var clamped = Math.Clamp((double)x, -Fp8E4M3.MaxFinite, Fp8E4M3.MaxFinite);
            var best = finite.OrderBy(b => Math.Abs(Fp8E4M3.ToSingle(b) - clamped)).ThenBy(b => b & 1).First();
            var got = Fp8E4M3.FromSingle(x);
            Assert.True(Fp8E4M3.ToSingle(best) == Fp8E4M3.ToSingle(got), $"{x:R}: 0x{got:X2} ({Fp8E4M3.ToSingle(got)}), nearest 0x{best:X2} ({Fp8E4M3.ToSingle(best)})");
        }

        Assert.Equal(0x7F, Fp8E4M3.FromSingle(float.NaN));
        Assert.Equal(0x7E, Fp8E4M3.FromSingle(464f)); // the midpoint to 480 (a NaN code) saturates
        Assert.Equal(0xFE, Fp8E4M3.FromSingle(-1e30f));
        Assert.Equal(0x80, Fp8E4M3.FromSingle(-float.Epsilon));
    }

    [Theory]
    [InlineData(4, 2, 8, 1)]
    [InlineData(8, 2, 16, 20)]
    [InlineData(8, 1, 128, 5)] // Llama-3-70B's head_dim and GQA group of 8
    public void Paged_fp8_attention_matches_reference_on_the_same_fp8_values_and_f16_within_fp8_rounding(int heads, int kvHeads, int headDim, int promptLength)
    {
        const int Blocks = 12, BlockSize = 4, Layers = 2, Layer = 1;
        var random = new Random((heads * headDim) + promptLength);
        int[][] tables = [[7, 2, 9], [3, 11, 0, 5, 1, 4]];
        var n = promptLength + 3;
        var positions = new int[n];
        var sequences = new int[n];
        for (var t = 0; t < n; t++)
        {
            sequences[t] = t < 3 ? 0 : 1;
            positions[t] = t < 3 ? t : t - 3;
        }

        var batch = new ForwardBatch(new int[n], positions, sequences, tables, [n - 1]);
        var keys = RandomArray(random, n * kvHeads * headDim, 2f);
        var values = RandomArray(random, n * kvHeads * headDim);
        var q = RandomArray(random, n * heads * headDim);
        var storage = new PagedKvStorage(Layers, Blocks, BlockSize, kvHeads, headDim, KvCacheDataType.Fp8);
        var expected = new float[q.Length];
        _reference.StoreKv(keys, values, batch, storage, Layer);
        _reference.Attention(q, batch, storage, Layer, heads, expected);

        var accelerator = fixture.Device.Accelerator;
        var layerElements = Blocks * BlockSize * kvHeads * headDim;
        using var kBuffer = fixture.Upload(keys);
        using var vBuffer = fixture.Upload(values);
        using var qBuffer = fixture.Upload(q);
        using var posBuffer = fixture.Upload(positions);
        using var seqBuffer = fixture.Upload(sequences);
        using var startBuffer = fixture.Upload(new[] { 0, tables[0].Length });
        using var tableBuffer = fixture.Upload(tables.SelectMany(t => t).ToArray());
        using var cacheK = accelerator.Allocate1D<byte>(Layers * layerElements);
        using var cacheV = accelerator.Allocate1D<byte>(Layers * layerElements);
        using var halfK = accelerator.Allocate1D<ILGPU.Half>(Layers * layerElements);
        using var halfV = accelerator.Allocate1D<ILGPU.Half>(Layers * layerElements);
        using var output = accelerator.Allocate1D<float>(q.Length);
        using var halfOutput = accelerator.Allocate1D<float>(q.Length);
        cacheK.MemSetToZero();
        cacheV.MemSetToZero();
        halfK.MemSetToZero();
        halfV.MemSetToZero();
        var shape = new AttentionKernels.KvShape(n, heads, kvHeads, headDim, BlockSize, Layer * layerElements, 1f / MathF.Sqrt(headDim));
        var views = new AttentionKernels.BatchViews(posBuffer.View, seqBuffer.View, startBuffer.View, tableBuffer.View);
        var attention = fixture.Device.Attention;
        attention.StoreKv(kBuffer.View, vBuffer.View, shape, views, KvCacheView.E4M3(cacheK.View), KvCacheView.E4M3(cacheV.View));
        attention.Attention(qBuffer.View, shape, views, KvCacheView.E4M3(cacheK.View), KvCacheView.E4M3(cacheV.View), output.View);
        attention.StoreKv(kBuffer.View, vBuffer.View, shape, views, halfK.View, halfV.View);
        attention.Attention(qBuffer.View, shape, views, halfK.View, halfV.View, halfOutput.View);
        var actual = IlgpuCpuDevice.Download(output);
        var withHalf = IlgpuCpuDevice.Download(halfOutput);

        // The device stored exactly the host's bytes (same rounding function), one byte an element.
        Assert.Equal(storage.Fp8Keys(Layer), IlgpuCpuDevice.Download(cacheK).Skip(Layer * layerElements).ToArray());
        Assert.Equal(storage.Fp8Values(Layer), IlgpuCpuDevice.Download(cacheV).Skip(Layer * layerElements).ToArray());
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var bound = 2 * ((headDim * headDim) + promptLength + 8) * U;
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"element {i}: {actual[i]} vs {expected[i]}");
            worst = Math.Max(worst, Math.Abs(actual[i] - withHalf[i]));
        }

        // Against f16 K/V: e4m3 keeps 3 mantissa bits (relative rounding ≤ 2^-4) where f16 keeps 10, so each cached
        // value moves by up to 1/16 of itself; outputs (weighted means of values in [-1, 1)) stay within 0.1.
        Assert.True(worst <= 0.1, $"fp8 attention differs from f16 by {worst}");
        Assert.True(worst > 0, "fp8 and f16 caches gave identical outputs: the fp8 path did not round");
    }

    public void Dispose() => _reference.Dispose();

    private static void DecodeKernel(Index1D i, KvCacheView cache, ArrayView<float> single, ArrayView<float> pairs)
    {
        single[2 * i] = KvCacheView.E4M3ToSingle(cache.Bytes[2 * i]);
        single[(2 * i) + 1] = KvCacheView.E4M3ToSingle(cache.Bytes[(2 * i) + 1]);
        cache.Pair(2L * i, out var low, out var high);
        pairs[2 * i] = low;
        pairs[(2 * i) + 1] = high;
    }

    private static void EncodeKernel(Index1D i, ArrayView<float> values, KvCacheView cache) => cache.Store(i, values[i]);

    // Every finite code's value (both signs), the midpoints between neighbouring codes and a hair either side of
    // them, the subnormal range, values past ±448, infinities, NaN, f32 subnormals, and random values at many scales.
    private static float[] EncodeInputs()
    {
        var magnitudes = Enumerable.Range(0, 0x7F).Select(b => Fp8E4M3.ToSingle((byte)b)).ToArray();
        var list = new List<float>();
        for (var i = 0; i < magnitudes.Length; i++)
        {
            list.Add(magnitudes[i]);
            if (i + 1 < magnitudes.Length)
            {
                var mid = (magnitudes[i] + magnitudes[i + 1]) / 2;
                list.AddRange([mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid)]);
            }
        }

        list.AddRange([448f, 449f, 463.99f, 464f, 470f, 480f, 1e6f, float.MaxValue, float.PositiveInfinity, float.Epsilon, 1e-40f, 1e-30f, 0.0009765625f, 0.00146484375f]);
        var random = new Random(8);
        for (var i = 0; i < 4000; i++)
        {
            list.Add((float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-14, 12))));
        }

        return [.. list, .. list.Select(v => -v), float.NaN];
    }
}
