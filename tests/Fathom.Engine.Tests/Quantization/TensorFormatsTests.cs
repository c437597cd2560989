using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Quantization;

public sealed class TensorFormatsTests
{
    [Fact]
    public void Unsupported_type_is_named_in_the_error()
    {
        var ex = Assert.Throws<NotSupportedException>(() => TensorFormats.DequantizeRow(GgmlType.Q5_K, new byte[176], new float[256], 256));
        Assert.Contains("Q5_K", ex.Message);
        Assert.Throws<NotSupportedException>(() => TensorFormats.QuantizeRow(GgmlType.IQ2_XXS, new float[256], new byte[256], 256));
    }

    [Fact]
    public void Row_sizes_agree_with_the_gguf_type_traits()
    {
        foreach (var type in TensorFormats.Supported)
        {
            Assert.Equal(GgmlTypeTraits.BlockBytes(type) * (4096L / GgmlTypeTraits.BlockSize(type)), TensorFormats.RowBytes(type, 4096));
        }
    }

    [Fact]
    public void Dispatch_round_trips_each_supported_type()
    {
        var x = QuantTestData.Values(512, 9);
        foreach (var type in TensorFormats.Supported)
        {
            var bytes = new byte[TensorFormats.RowBytes(type, 512)];
            var y = new float[512];
            TensorFormats.QuantizeRow(type, x, bytes, 512);
            TensorFormats.DequantizeRow(type, bytes, y, 512);
            var maxError = x.Zip(y, (a, b) => MathF.Abs(a - b)).Max();
            Assert.True(maxError < 0.6f, $"{type}: max error {maxError}");
        }
    }
}
