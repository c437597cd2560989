using Fathom.Gguf;

namespace Fathom.Gguf.Tests;

public sealed class GgmlTypeTraitsTests
{
    // Block geometry from the GGUF/ggml format description (elements per block, bytes per block).
    [Theory]
    [InlineData(GgmlType.F32, 1, 4)]
    [InlineData(GgmlType.F16, 1, 2)]
    [InlineData(GgmlType.BF16, 1, 2)]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q4_1, 32, 20)]
    [InlineData(GgmlType.Q5_0, 32, 22)]
    [InlineData(GgmlType.Q5_1, 32, 24)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q8_1, 32, 36)]
    [InlineData(GgmlType.Q2_K, 256, 84)]
    [InlineData(GgmlType.Q3_K, 256, 110)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q5_K, 256, 176)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.Q8_K, 256, 292)]
    [InlineData(GgmlType.IQ2_XXS, 256, 66)]
    [InlineData(GgmlType.IQ2_XS, 256, 74)]
    [InlineData(GgmlType.IQ2_S, 256, 82)]
    [InlineData(GgmlType.IQ3_XXS, 256, 98)]
    [InlineData(GgmlType.IQ3_S, 256, 110)]
    [InlineData(GgmlType.IQ1_S, 256, 50)]
    [InlineData(GgmlType.IQ1_M, 256, 56)]
    [InlineData(GgmlType.IQ4_NL, 32, 18)]
    [InlineData(GgmlType.IQ4_XS, 256, 136)]
    [InlineData(GgmlType.TQ1_0, 256, 54)]
    [InlineData(GgmlType.TQ2_0, 256, 66)]
    [InlineData(GgmlType.MXFP4, 32, 17)]
    [InlineData(GgmlType.I8, 1, 1)]
    [InlineData(GgmlType.I64, 1, 8)]
    [InlineData(GgmlType.F64, 1, 8)]
    public void Block_geometry_matches_the_format(GgmlType type, int blockSize, int blockBytes)
    {
        Assert.Equal(blockSize, GgmlTypeTraits.BlockSize(type));
        Assert.Equal(blockBytes, GgmlTypeTraits.BlockBytes(type));
        Assert.Equal(3L * blockBytes, GgmlTypeTraits.RowBytes(type, 3L * blockSize));
    }

    [Fact]
    public void Every_defined_type_is_known_and_retired_ids_are_not()
    {
        Assert.All(Enum.GetValues<GgmlType>(), t => Assert.True(GgmlTypeTraits.IsKnown(t)));
        foreach (var retired in new uint[] { 4, 5, 31, 32, 33, 36, 37, 38, 40, uint.MaxValue })
        {
            Assert.False(GgmlTypeTraits.IsKnown((GgmlType)retired));
            Assert.Throws<ArgumentOutOfRangeException>(() => GgmlTypeTraits.BlockSize((GgmlType)retired));
        }
    }

    [Fact]
    public void Supported_types_are_the_engine_set()
    {
        var supported = Enum.GetValues<GgmlType>().Where(GgmlTypeTraits.IsSupported).ToHashSet();
        Assert.Equal(new HashSet<GgmlType> { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q8_K }, supported);
    }

    [Fact]
    public void A_row_that_is_not_a_whole_number_of_blocks_is_refused()
    {
        Assert.Throws<ArgumentException>(() => GgmlTypeTraits.RowBytes(GgmlType.Q8_0, 172));
        Assert.Throws<ArgumentException>(() => GgmlTypeTraits.RowBytes(GgmlType.Q4_K, 4096 + 32));
        Assert.Equal(172L * 4, GgmlTypeTraits.RowBytes(GgmlType.F32, 172));
    }
}
