using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>Quantize then dequantize stays within each format's error bound, derived from the stored scales.</summary>
public sealed class RoundTripTests
{
    public static TheoryData<int> SmallBlockLengths => [32, 64, 96, 256, 4096, 11008];

    public static TheoryData<int> SuperBlockLengths => [256, 512, 4096, 11008];

    [Theory]
    [MemberData(nameof(SmallBlockLengths))]
    public void Q8_0_error_is_at_most_half_a_step(int n)
    {
        var x = QuantTestData.Values(n, n);
        var bytes = new byte[Q8_0.RowBytes(n)];
        Q8_0.Quantize(x, bytes, n);
        var y = new float[n];
        Q8_0.Dequantize(bytes, y, n);
        for (var b = 0; b < n / 32; b++)
        {
            var d16 = F16.Read(bytes, b * 34);
            var d = x.AsSpan(b * 32, 32).ToArray().Max(MathF.Abs) / 127;
            // Half a step, plus the fp16 rounding of d scaled by the largest level.
            var bound = (0.5f * d16) + (127 * MathF.Abs(d16 - d)) + 1e-6f;
            for (var j = b * 32; j < (b + 1) * 32; j++)
            {
                Assert.True(MathF.Abs(x[j] - y[j]) <= bound, $"element {j}: {x[j]} -> {y[j]}, bound {bound}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SmallBlockLengths))]
    public void Q4_0_error_is_at_most_half_a_step_except_the_clamped_top(int n)
    {
        var x = QuantTestData.Values(n, n + 1);
        var bytes = new byte[Q4_0.RowBytes(n)];
        Q4_0.Quantize(x, bytes, n);
        var y = new float[n];
        Q4_0.Dequantize(bytes, y, n);
        for (var b = 0; b < n / 32; b++)
        {
            var d16 = MathF.Abs(F16.Read(bytes, b * 18));
            var amax = x.AsSpan(b * 32, 32).ToArray().Max(MathF.Abs);
            var d = amax / 8;
            for (var j = b * 32; j < (b + 1) * 32; j++)
            {
                // Levels span −8..7 steps: the largest magnitude maps to −8 exactly, values 7.5..8 steps the
                // other way clamp to 7 and may be off by one full step.
                var clamped = MathF.Abs(x[j]) / d > 7.5f;
                var bound = ((clamped ? 1f : 0.5f) * d16) + (8 * MathF.Abs(d16 - d)) + 1e-6f;
                Assert.True(MathF.Abs(x[j] - y[j]) <= bound, $"element {j}: {x[j]} -> {y[j]}, bound {bound}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SuperBlockLengths))]
    public void Q4_K_error_is_within_one_step_of_the_sub_block_scale(int n)
    {
        var x = QuantTestData.Values(n, n + 2);
        var bytes = new byte[Q4K.RowBytes(n)];
        Q4K.Quantize(x, bytes, n);
        var y = new float[n];
        Q4K.Dequantize(bytes, y, n);
        for (var b = 0; b < n / 256; b++)
        {
            var block = bytes.AsSpan(b * 144, 144);
            var d = F16.Read(block, 0);
            var dmin = F16.Read(block, 2);
            for (var j = 0; j < 8; j++)
            {
                var (sc, m) = Q4K.GetScaleMin(j, block.Slice(4, 12));
                var lo = -dmin * m;
                var hi = lo + (15 * d * sc);
                for (var i = 0; i < 32; i++)
                {
                    var e = (b * 256) + (32 * j) + i;
                    // Inside the representable range the nearest level is at most half a step away; outside it,
                    // the error is the distance to the range end. The range must still cover the data to within a step.
                    var outside = Math.Max(0, Math.Max(lo - x[e], x[e] - hi));
                    var bound = (0.5f * d * sc) + outside + 1e-5f;
                    Assert.True(MathF.Abs(x[e] - y[e]) <= bound, $"element {e}: {x[e]} -> {y[e]}, bound {bound}");
                    Assert.True(outside <= (d * sc) + (dmin * 1.01f) + 1e-5f, $"element {e} lies {outside} outside [{lo}, {hi}]");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(SuperBlockLengths))]
    public void Q6_K_error_is_within_half_a_step_of_the_group_scale(int n)
    {
        var x = QuantTestData.Values(n, n + 3);
        var bytes = new byte[Q6K.RowBytes(n)];
        Q6K.Quantize(x, bytes, n);
        var y = new float[n];
        Q6K.Dequantize(bytes, y, n);
        for (var b = 0; b < n / 256; b++)
        {
            var block = bytes.AsSpan(b * 210, 210);
            var d = F16.Read(block, 208);
            for (var g = 0; g < 16; g++)
            {
                var s = d * (sbyte)block[192 + g];
                var lo = MathF.Min(-32 * s, 31 * s);
                var hi = MathF.Max(-32 * s, 31 * s);
                for (var i = 0; i < 16; i++)
                {
                    var e = (b * 256) + (16 * g) + i;
                    // Nearest of the levels −32..31: half a step inside the range; outside it (the 8-bit group scale
                    // rounds by up to half a unit of d, i.e. 32·|d|/2 at the extreme level) the distance to the range.
                    var outside = Math.Max(0, Math.Max(lo - x[e], x[e] - hi));
                    var bound = (0.5f * MathF.Abs(s)) + outside + 1e-5f;
                    Assert.True(MathF.Abs(x[e] - y[e]) <= bound, $"element {e}: {x[e]} -> {y[e]}, bound {bound}");
                    Assert.True(outside <= (16 * MathF.Abs(d)) + MathF.Abs(s) + 1e-5f, $"element {e} lies {outside} outside [{lo}, {hi}]");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(SuperBlockLengths))]
    public void Q8_K_error_is_at_most_half_a_step(int n)
    {
        var x = QuantTestData.Values(n, n + 4);
        var bytes = new byte[Q8K.RowBytes(n)];
        Q8K.Quantize(x, bytes, n);
        var y = new float[n];
        Q8K.Dequantize(bytes, y, n);
        for (var e = 0; e < n; e++)
        {
            var d = MathF.Abs(BitConverter.ToSingle(bytes, e / 256 * 292));
            Assert.True(MathF.Abs(x[e] - y[e]) <= (0.5f * d * 1.0001f) + 1e-7f, $"element {e}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4099)]
    public void F16_and_BF16_are_within_half_an_ulp_of_their_precision(int n)
    {
        var x = QuantTestData.Values(n, n + 5, 3f);
        var h = new byte[2 * n];
        var y = new float[n];
        F16.Quantize(x, h, n);
        F16.Dequantize(h, y, n);
        for (var i = 0; i < n; i++)
        {
            Assert.Equal((float)(Half)x[i], y[i]);
        }

        BF16.Quantize(x, h, n);
        BF16.Dequantize(h, y, n);
        for (var i = 0; i < n; i++)
        {
            Assert.True(MathF.Abs(x[i] - y[i]) <= MathF.Abs(x[i]) * (1f / 256), $"element {i}");
            Assert.Equal(BF16.ToSingle(BF16.FromSingle(x[i])), y[i]);
        }
    }

    [Fact]
    public void All_zero_blocks_quantize_to_zero()
    {
        var x = new float[256];
        var y = new float[256];
        foreach (var (quantize, dequantize, bytes) in new (Action<float[], byte[]>, Action<byte[], float[]>, int)[]
        {
            ((s, d) => Q8_0.Quantize(s, d, 256), (s, d) => Q8_0.Dequantize(s, d, 256), 8 * 34),
            ((s, d) => Q4_0.Quantize(s, d, 256), (s, d) => Q4_0.Dequantize(s, d, 256), 8 * 18),
            ((s, d) => Q4K.Quantize(s, d, 256), (s, d) => Q4K.Dequantize(s, d, 256), 144),
            ((s, d) => Q6K.Quantize(s, d, 256), (s, d) => Q6K.Dequantize(s, d, 256), 210),
            ((s, d) => Q8K.Quantize(s, d, 256), (s, d) => Q8K.Dequantize(s, d, 256), 292),
        })
        {
            var buffer = new byte[bytes];
            Array.Fill(y, 1f);
            quantize(x, buffer);
            dequantize(buffer, y);
            Assert.All(y, v => Assert.Equal(0f, v));
        }
    }
}
