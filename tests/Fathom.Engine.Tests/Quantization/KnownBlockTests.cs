using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>Hand-built blocks with known bytes decode to known values, so layout mistakes cannot hide.</summary>
public sealed class KnownBlockTests
{
    [Fact]
    public void Q8_0_block_is_fp16_scale_then_int8()
    {
        var block = new byte[34];
        block[0] = 0x00; block[1] = 0x38; // fp16 0.5
        block[2] = 1; block[3] = unchecked((byte)-2); block[33] = 127;
        var y = new float[32];
        Q8_0.Dequantize(block, y, 32);
        Assert.Equal(0.5f, y[0]);
        Assert.Equal(-1f, y[1]);
        Assert.Equal(0f, y[2]);
        Assert.Equal(63.5f, y[31]);
    }

    [Fact]
    public void Q4_0_low_nibbles_are_first_half_high_nibbles_second_half()
    {
        var block = new byte[18];
        block[0] = 0x00; block[1] = 0x40; // fp16 2.0
        for (var j = 0; j < 16; j++)
        {
            block[2 + j] = 0x88; // zero
        }

        block[2] = 0x9A;
        block[17] = 0x0F;
        var y = new float[32];
        Q4_0.Dequantize(block, y, 32);
        Assert.Equal(4f, y[0]);   // (0xA - 8) * 2
        Assert.Equal(2f, y[16]);  // (0x9 - 8) * 2
        Assert.Equal(14f, y[15]); // (0xF - 8) * 2
        Assert.Equal(-16f, y[31]); // (0x0 - 8) * 2
        Assert.Equal(0f, y[1]);
    }

    [Fact]
    public void Q4_K_scales_and_mins_unpack_six_bit_pairs()
    {
        var block = new byte[144];
        block[0] = 0x00; block[1] = 0x3C; // d = 1
        block[2] = 0x00; block[3] = 0x38; // dmin = 0.5
        var scales = block.AsSpan(4, 12);
        scales[0] = 3; scales[4] = 2;           // sub-block 0: scale 3, min 2
        scales[9] = 0x35;                        // sub-block 5: low bits scale 5, min 3
        scales[1] |= 2 << 6;                     // sub-block 5 scale high bits -> 37
        scales[5] |= 1 << 6;                     // sub-block 5 min high bits -> 19
        block[16 + 0] = 0x74;                    // element 0 = 4 (sub-block 0), element 32 = 7 (sub-block 1)
        block[16 + 64 + 3] = 0xB0;               // element 128+32+3 = 163 -> 11 (sub-block 5)
        var y = new float[256];
        Q4K.Dequantize(block, y, 256);
        Assert.Equal((1f * 3 * 4) - (0.5f * 2), y[0]);
        Assert.Equal(-1f, y[1]);                 // level 0 in sub-block 0
        Assert.Equal(0f, y[32]);                 // sub-block 1: scale 0 (high bits belong to sub-block 5), min 0
        Assert.Equal((1f * 37 * 11) - (0.5f * 19), y[163]);
        Assert.Equal(-(0.5f * 19), y[160]);
    }

    [Fact]
    public void Q6_K_low_and_high_bits_interleave_as_ggml()
    {
        var block = new byte[210];
        for (var g = 0; g < 16; g++)
        {
            block[192 + g] = (byte)(g + 1);
        }

        block[192 + 14] = unchecked((byte)-3);
        block[208] = 0x00; block[209] = 0x34; // d = 0.25
        block[0] = 0x05; block[128] = 0x02;          // element 0: low 5, high 2 -> 37
        block[1] = 0xF0; block[128 + 1] = 0x30;      // element 65: ql[1] high 15, qh[1] bits 4-5 = 3 -> 63
        block[64 + 32 + 2] = 0x00; block[128 + 32 + 2] = 0x00; // element 226: level 0
        block[32 + 4] = 0x0C; block[128 + 4] = 0x04; // element 36: ql[36] low 12, qh[4] bits 2-3 = 1 -> 28
        var y = new float[256];
        Q6K.Dequantize(block, y, 256);
        Assert.Equal(0.25f * 1 * (37 - 32), y[0]);
        Assert.Equal(0.25f * 5 * (63 - 32), y[65]);
        Assert.Equal(0.25f * -3 * (0 - 32), y[226]);
        Assert.Equal(0.25f * 3 * (28 - 32), y[36]);
    }

    [Fact]
    public void Q8_K_block_is_f32_scale_int8_and_group_sums()
    {
        var x = QuantTestData.Values(256, 5);
        var block = new byte[292];
        Q8K.Quantize(x, block, 256);
        var d = BitConverter.ToSingle(block, 0);
        for (var g = 0; g < 16; g++)
        {
            var sum = 0;
            for (var j = 0; j < 16; j++)
            {
                sum += (sbyte)block[4 + (16 * g) + j];
            }

            Assert.Equal(sum, BitConverter.ToInt16(block, 260 + (2 * g)));
        }

        var amaxIndex = Array.IndexOf(x, x.MaxBy(MathF.Abs));
        Assert.Equal(-127, (sbyte)block[4 + amaxIndex]);
        Assert.Equal(x[amaxIndex], d * -127, 5);
    }

    [Theory]
    [InlineData(1.0f, (ushort)0x3F80)]
    [InlineData(-2.0f, (ushort)0xC000)]
    [InlineData(float.PositiveInfinity, (ushort)0x7F80)]
    public void BF16_exact_values(float value, ushort bits)
    {
        Assert.Equal(bits, BF16.FromSingle(value));
        Assert.Equal(value, BF16.ToSingle(bits));
    }

    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // tie, even stays
    [InlineData(0x3F818000u, (ushort)0x3F82)] // tie, odd rounds up
    [InlineData(0x3F808001u, (ushort)0x3F81)] // above tie
    [InlineData(0x7FC00001u, (ushort)0x7FC0)] // quiet NaN
    [InlineData(0xFF800001u, (ushort)0xFFC0)] // signalling NaN made quiet, not infinity
    public void BF16_rounds_to_nearest_even_and_keeps_NaN(uint f32Bits, ushort expected)
    {
        var value = BitConverter.UInt32BitsToSingle(f32Bits);
        Assert.Equal(expected, BF16.FromSingle(value));
        var many = Enumerable.Repeat(value, 67).ToArray();
        var bytes = new byte[134];
        BF16.Quantize(many, bytes, 67);
        Assert.All(Enumerable.Range(0, 67), i => Assert.Equal(expected, BitConverter.ToUInt16(bytes, 2 * i)));
    }

    [Fact]
    public void F16_round_trips_exact_halves_and_rounds_to_nearest_even()
    {
        float[] x = [1f, -2.5f, 65504f, 1f + (1f / 2048)]; // the last is a tie between 1 and 1+2^-10
        var bytes = new byte[8];
        F16.Quantize(x, bytes, 4);
        Assert.Equal(0x3C00, BitConverter.ToUInt16(bytes, 0));
        Assert.Equal(0x7BFF, BitConverter.ToUInt16(bytes, 4));
        Assert.Equal(0x3C00, BitConverter.ToUInt16(bytes, 6));
        var y = new float[4];
        F16.Dequantize(bytes, y, 4);
        Assert.Equal([1f, -2.5f, 65504f, 1f], y);
    }
}

public sealed class F16ConversionTests
{
    [Fact]
    public void Every_half_bit_pattern_converts_exactly()
    {
        var bits = new byte[65536 * 2];
        for (var i = 0; i < 65536; i++)
        {
            bits[2 * i] = (byte)i;
            bits[(2 * i) + 1] = (byte)(i >> 8);
        }

        var y = new float[65536];
        F16.Dequantize(bits, y, 65536);
        for (var i = 0; i < 65536; i++)
        {
            var expected = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            Assert.True(
                BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(y[i]) || (float.IsNaN(expected) && float.IsNaN(y[i])),
                $"0x{i:X4}: {expected} vs {y[i]}");
        }
    }
}
