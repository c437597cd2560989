using Fathom.Gguf;

namespace Fathom.Gguf.Tests;

/// <summary>Each malformation, crafted by hand, ends in a <see cref="GgufFormatException"/> that says what is wrong.</summary>
public sealed class GgufMalformedTests
{
    private const uint F32 = 0;
    private const uint Q8_0 = 8;

    private static RawGguf OneTensor(ulong[] dims, uint type, ulong offset, int dataBytes)
    {
        var raw = new RawGguf().Header(3, 1, 0).TensorInfo("w", dims, type, offset).PadTo(32);
        return raw.Zeros(dataBytes);
    }

    private static GgufFormatException Rejects(byte[] bytes, string reasonFragment)
    {
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.OpenBytes(bytes, "crafted.gguf"));
        Assert.Contains(reasonFragment, e.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("crafted.gguf", e.Message);
        return e;
    }

    [Fact]
    public void A_valid_crafted_file_opens() =>
        Assert.Single(GgufFile.OpenBytes(OneTensor([4, 2], F32, 0, 32).ToArray()).Tensors);

    [Fact]
    public void Bad_magic() => Assert.Equal(0, Rejects("GGML\x03\0\0\0"u8.ToArray().Concat(new byte[16]).ToArray(), "magic").Offset);

    [Fact]
    public void Version_1_is_rejected_by_name() =>
        Rejects(new RawGguf().Header(1, 0, 0).ToArray(), "GGUF v1 is not supported");

    [Theory]
    [InlineData(0u, "unsupported GGUF version 0")]
    [InlineData(4u, "unsupported GGUF version 4")]
    [InlineData(0x03000000u, "big-endian")]
    public void Other_versions_are_rejected(uint version, string reason) => Rejects(new RawGguf().Header(version, 0, 0).ToArray(), reason);

    [Fact]
    public void Version_2_reads_like_version_3()
    {
        var writer = new GgufWriter();
        writer.AddMetadata("general.architecture", "llama").AddMetadata("list", ["x", "y"]);
        writer.AddTensor("w", GgmlType.Q8_0, [64, 2], Enumerable.Range(0, 136).Select(i => (byte)i).ToArray());
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        var v3 = stream.ToArray();
        var v2 = (byte[])v3.Clone();
        v2[4] = 2;

        using var a = GgufFile.OpenBytes(v3);
        using var b = GgufFile.OpenBytes(v2);
        Assert.Equal(2u, b.Version);
        Assert.Equal(a.Metadata.ToList(), b.Metadata.ToList());
        Assert.Equal(a.GetTensorBytes(a.GetTensor("w")).ToArray(), b.GetTensorBytes(b.GetTensor("w")).ToArray());
    }

    [Fact]
    public void An_empty_input_is_truncated() => Rejects([], "truncated");

    [Fact]
    public void A_truncated_header_is_reported_at_its_offset() =>
        Assert.Equal(16, Rejects(new RawGguf().Header(3, 0, 0).ToArray()[..20], "truncated").Offset);

    [Fact]
    public void A_huge_metadata_count_is_rejected_before_allocating() =>
        Rejects(new RawGguf().Header(3, 0, ulong.MaxValue).ToArray(), "metadata entry count");

    [Fact]
    public void A_huge_tensor_count_is_rejected_before_allocating() =>
        Rejects(new RawGguf().Header(3, 1L << 40, 0).ToArray(), "tensor count");

    [Fact]
    public void A_string_longer_than_the_file_is_rejected() =>
        Rejects(new RawGguf().Header(3, 0, 1).U64(1000).Zeros(30).ToArray(), "past the end");

    [Fact]
    public void An_array_count_beyond_the_file_is_rejected() =>
        Rejects(new RawGguf().Header(3, 0, 1).Str("a").U32(9).U32(4).U64(1L << 60).ToArray(), "array count");

    [Fact]
    public void An_unknown_value_type_is_rejected() =>
        Rejects(new RawGguf().Header(3, 0, 1).Str("a").U32(13).U32(0).ToArray(), "value type 13");

    [Fact]
    public void Arrays_nested_too_deep_are_rejected()
    {
        var raw = new RawGguf().Header(3, 0, 1).Str("deep").U32(9);
        for (var i = 0; i < 20; i++)
        {
            raw.U32(9).U64(1);
        }

        Rejects(raw.U32(4).U64(0).ToArray(), "nested deeper");
    }

    [Fact]
    public void A_duplicate_key_is_rejected() =>
        Rejects(new RawGguf().Header(3, 0, 2).KvU32("k", 1).KvU32("k", 2).ToArray(), "duplicate metadata key 'k'");

    [Theory]
    [InlineData(0u)]
    [InlineData(24u)]
    public void An_alignment_that_is_not_a_power_of_two_is_rejected(uint alignment) =>
        Rejects(new RawGguf().Header(3, 0, 1).KvU32("general.alignment", alignment).ToArray(), "power of two");

    [Fact]
    public void An_alignment_of_the_wrong_type_is_rejected() =>
        Rejects(new RawGguf().Header(3, 0, 1).KvString("general.alignment", "32").ToArray(), "UInt32");

    [Fact]
    public void More_than_four_dimensions_are_rejected() => Rejects(OneTensor([1, 1, 1, 1, 1], F32, 0, 32).ToArray(), "5 dimensions");

    [Fact]
    public void Zero_dimensions_are_rejected() => Rejects(OneTensor([], F32, 0, 32).ToArray(), "0 dimensions");

    [Fact]
    public void A_zero_dimension_is_rejected() => Rejects(OneTensor([4, 0], F32, 0, 32).ToArray(), "dimension 1 is 0");

    [Fact]
    public void A_negative_dimension_is_rejected() => Rejects(OneTensor([ulong.MaxValue], F32, 0, 32).ToArray(), "dimension 0 is -1");

    [Fact]
    public void An_overflowing_element_count_is_rejected() =>
        Rejects(OneTensor([1L << 40, 1L << 40], F32, 0, 32).ToArray(), "overflows");

    [Fact]
    public void An_overflowing_byte_size_is_rejected() => Rejects(OneTensor([1, 1L << 62], F32, 0, 32).ToArray(), "overflows");

    [Theory]
    [InlineData(4u)]
    [InlineData(31u)]
    [InlineData(1000u)]
    public void An_unknown_ggml_type_is_rejected(uint type) =>
        Rejects(OneTensor([4], type, 0, 32).ToArray(), $"unknown ggml type id {type}");

    [Fact]
    public void A_quantized_row_that_is_not_a_whole_number_of_blocks_is_rejected() =>
        Rejects(OneTensor([48, 2], Q8_0, 0, 128).ToArray(), "not a multiple of its 32-element block");

    [Fact]
    public void A_misaligned_tensor_offset_is_rejected() => Rejects(OneTensor([4], F32, 4, 64).ToArray(), "not a multiple of the alignment");

    [Fact]
    public void A_tensor_past_the_end_of_the_data_is_rejected() => Rejects(OneTensor([16], F32, 0, 32).ToArray(), "outside the data section");

    [Fact]
    public void A_tensor_offset_far_past_the_end_is_rejected() =>
        Rejects(OneTensor([4], F32, 1UL << 63, 32).ToArray(), "outside the data section");

    [Fact]
    public void A_file_that_ends_before_its_data_section_is_rejected()
    {
        var bytes = new RawGguf().Header(3, 1, 0).TensorInfo("w", [4], F32, 0).ToArray();
        Rejects(bytes, "data section");
    }

    [Fact]
    public void Overlapping_tensors_are_rejected()
    {
        var bytes = new RawGguf().Header(3, 2, 0)
            .TensorInfo("a", [16], F32, 0)
            .TensorInfo("b", [8], F32, 32)
            .PadTo(32).Zeros(128).ToArray();
        Rejects(bytes, "overlaps");
    }

    [Fact]
    public void Duplicate_tensor_names_are_rejected()
    {
        var bytes = new RawGguf().Header(3, 2, 0)
            .TensorInfo("a", [8], F32, 0)
            .TensorInfo("a", [8], F32, 32)
            .PadTo(32).Zeros(64).ToArray();
        Rejects(bytes, "duplicate tensor name 'a'");
    }

    [Fact]
    public void Open_on_a_path_names_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fathom-bad-{Guid.NewGuid():N}.gguf");
        try
        {
            File.WriteAllBytes(path, new RawGguf().Header(1, 0, 0).ToArray());
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
            Assert.Equal(path, e.FilePath);
            Assert.Equal(4, e.Offset);
            Assert.Contains(path, e.Message);

            File.WriteAllBytes(path, []);
            Assert.Contains("empty", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Reason);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
