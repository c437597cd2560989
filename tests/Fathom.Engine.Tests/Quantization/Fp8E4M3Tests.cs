using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>The e4m3fn element type: known codes, rounding to nearest (ties to even), saturation.</summary>
public sealed class Fp8E4M3Tests
{
    [Theory]
    [InlineData(0x00, 0f)]
    [InlineData(0x01, 0.001953125f)]   // smallest subnormal, 2^-9
    [InlineData(0x07, 0.013671875f)]   // 7·2^-9
    [InlineData(0x08, 0.015625f)]      // smallest normal, 2^-6
    [InlineData(0x38, 1f)]
    [InlineData(0x39, 1.125f)]
    [InlineData(0x7E, 448f)]
    [InlineData(0xB8, -1f)]
    [InlineData(0xFE, -448f)]
    public void Known_codes_have_their_published_values(int code, float value) =>
        Assert.Equal(value, Fp8E4M3.ToSingle((byte)code));

    [Fact]
    public void The_two_nan_codes_are_nan_and_every_other_code_round_trips()
    {
        Assert.True(float.IsNaN(Fp8E4M3.ToSingle(0x7F)));
        Assert.True(float.IsNaN(Fp8E4M3.ToSingle(0xFF)));
        for (var b = 0; b < 256; b++)
        {
            if (!Fp8E4M3.IsNaN((byte)b))
            {
                Assert.Equal(b, Fp8E4M3.FromSingle(Fp8E4M3.ToSingle((byte)b)));
            }
        }
    }

    [Fact]
    public void Rounds_to_the_nearest_code_with_ties_to_even_and_saturates()
    {
        var random = new Random(5);
        for (var i = 0; i < 20_000; i++)
        {
            var x = (float)((random.NextDouble() * 2) - 1) * MathF.ScaleB(1, random.Next(-12, 10));
            var code = Fp8E4M3.FromSingle(x);
            var value = Fp8E4M3.ToSingle(code);
            var clamped = Math.Clamp(x, -448f, 448f);
            // No other finite code is strictly closer.
            for (var other = 0; other < 256; other++)
            {
                if (!Fp8E4M3.IsNaN((byte)other))
                {
                    Assert.True(Math.Abs(clamped - value) <= Math.Abs(clamped - Fp8E4M3.ToSingle((byte)other)), $"{x}: code {code:X2} ({value}) but {other:X2} ({Fp8E4M3.ToSingle((byte)other)}) is closer");
                }
            }
        }

        // Exact midpoints go to the even code: 1.0625 lies between 1 (0x38) and 1.125 (0x39); 1.1875 between 0x39 and 0x3A.
        Assert.Equal(0x38, Fp8E4M3.FromSingle(1.0625f));
        Assert.Equal(0x3A, Fp8E4M3.FromSingle(1.1875f));
        Assert.Equal(0x7E, Fp8E4M3.FromSingle(1e6f));
        Assert.Equal(0xFE, Fp8E4M3.FromSingle(float.NegativeInfinity));
    }
}
