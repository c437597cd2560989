using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>Wrong lengths end in ArgumentException naming the format and the problem.</summary>
public sealed class BadInputTests
{
    [Fact]
    public void Length_not_a_multiple_of_the_block_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Q4K.Quantize(new float[300], new byte[1000], 300));
        Assert.Contains("Q4K", ex.Message);
        Assert.Contains("multiple of the block size 256", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Q8_0.Dequantize(new byte[100], new float[40], 40));
        Assert.Contains("block size 32", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ScalarDot.Q6KxQ8K(new byte[210], new byte[292], 100));
        Assert.Contains("Q6_K", ex.Message);
    }

    [Fact]
    public void Short_buffers_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Q4_0.Dequantize(new byte[35], new float[64], 64));
        Assert.Contains("needed", ex.Message);
        Assert.Throws<ArgumentException>(() => Q6K.Quantize(new float[256], new byte[209], 256));
        Assert.Throws<ArgumentException>(() => Q8K.Quantize(new float[255], new byte[292], 256));
        ex = Assert.Throws<ArgumentException>(() => SimdDot.Q8_0xQ8_0(new byte[34], new byte[33], 32));
        Assert.Contains("activation row", ex.Message);
        Assert.Throws<ArgumentException>(() => SimdDot.F16xF32(new byte[6], new float[4], 4));
        ex = Assert.Throws<ArgumentException>(() => QuantMatMul.Q8_0(new byte[34 * 2], 3, 32, new byte[34], 1, new float[3], 3));
        Assert.Contains("3 rows need", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => QuantMatMul.Q4K(new byte[144], 1, 256, new byte[292 * 2], 2, new float[1], 1));
        Assert.Contains("output", ex.Message);
    }
}
