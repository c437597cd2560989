using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// The pair-order conversion gives every half's exact float (specials included, alone or among finite neighbours) at the
/// place <see cref="F16Pairs.Split"/> puts that element, and <see cref="F16Pairs.Join"/> undoes the split. Runs on every
/// kernel tier (<see cref="Backends.KernelTierTests.KernelSuites"/>), each with its own chunk width.
/// </summary>
public sealed unsafe class F16PairsTests
{
    [Fact]
    public void Every_bit_pattern_lands_exactly_where_split_puts_its_element()
    {
        Assert.True(F16Pairs.Chunk > 0, "this machine has vector instructions");
        var source = new ushort[65536];
        for (var i = 0; i < source.Length; i++)
        {
            source[i] = (ushort)((i * 40503) & 0xFFFF); // every pattern once, scattered so that chunks mix specials with finite values
        }

        AssertPaired(source);
    }

    [Fact]
    public void A_chunk_with_one_infinity_or_nan_converts_its_finite_values_exactly_too()
    {
        var random = new Random(5);
        foreach (var special in new ushort[] { 0x7C00, 0xFC00, 0x7E00, 0xFD01 })
        {
            for (var at = 0; at < F16Pairs.Chunk; at++)
            {
                var source = new ushort[2 * F16Pairs.Chunk];
                for (var i = 0; i < source.Length; i++)
                {
                    source[i] = BitConverter.HalfToUInt16Bits((Half)((random.NextDouble() - 0.5) * 100));
                }

                source[at] = special;
                AssertPaired(source);
            }
        }
    }

    [Fact]
    public void Join_undoes_split_and_scales()
    {
        var n = 4 * F16Pairs.Chunk;
        var x = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        var split = new float[n];
        var joined = new float[n];
        fixed (float* px = x, ps = split, pj = joined)
        {
            F16Pairs.Split(px, ps, n);
            F16Pairs.Join(ps, pj, n, 0.5f);
        }

        Assert.Equal(x.Select(v => v * 0.5f), joined);
        Assert.Equal(new float[] { 0, 2, 4 }, split.Take(3));
        Assert.Equal(1f, split[F16Pairs.Chunk / 2]);
        Assert.True(F16Pairs.Fits(2 * F16Pairs.Chunk) && !F16Pairs.Fits(F16Pairs.Chunk + 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitOdd(F16Pairs.Chunk + 2));
    }

    private static void SplitOdd(int n)
    {
        var x = new float[n];
        fixed (float* p = x)
        {
            F16Pairs.Split(p, p, n);
        }
    }

    private static void AssertPaired(ushort[] source)
    {
        var exact = source.Select(h => (float)BitConverter.UInt16BitsToHalf(h)).ToArray();
        var expected = new float[source.Length];
        var actual = new float[source.Length];
        fixed (float* e = exact, pe = expected, pa = actual)
        fixed (ushort* s = source)
        {
            F16Pairs.Split(e, pe, source.Length);
            F16Pairs.ToSingle(s, pa, source.Length);
        }

        for (var i = 0; i < source.Length; i++)
        {
            Assert.True(
                BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]) || (float.IsNaN(expected[i]) && float.IsNaN(actual[i])),
                $"slot {i}: {actual[i]} vs {expected[i]}");
        }
    }
}
