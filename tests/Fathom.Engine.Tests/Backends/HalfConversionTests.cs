using Fathom.Engine.Backends;

namespace Fathom.Engine.Tests.Backends;

public sealed unsafe class HalfConversionTests
{
    [Fact]
    public void Every_f16_and_bf16_bit_pattern_converts_exactly()
    {
        var source = new ushort[65536 + 7]; // a tail past the vector loop too
        for (var i = 0; i < source.Length; i++)
        {
            source[i] = (ushort)i;
        }

        var half = new float[source.Length];
        var bf16 = new float[source.Length];
        fixed (ushort* s = source)
        fixed (float* h = half)
        fixed (float* b = bf16)
        {
            HalfConversion.HalfToSingle(s, h, source.Length);
            HalfConversion.BFloat16ToSingle(s, b, source.Length);
        }

        for (var i = 0; i < source.Length; i++)
        {
            var expected = (float)BitConverter.UInt16BitsToHalf(source[i]);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(half[i]) || (float.IsNaN(expected) && float.IsNaN(half[i])), $"F16 0x{source[i]:X4}: {half[i]} vs {expected}");
            Assert.Equal(BitConverter.Int32BitsToSingle(source[i] << 16), bf16[i]);
        }
    }
}
