using Fathom.Gguf;

namespace Fathom.Gguf.Tests;

public sealed class GgufWriterRoundTripTests
{
    private static GgufValue[] EveryScalar() =>
    [
        GgufValue.FromUInt8(250), GgufValue.FromInt8(-120), GgufValue.FromUInt16(65000), GgufValue.FromInt16(-32000),
        GgufValue.FromUInt32(4_000_000_000), GgufValue.FromInt32(-2_000_000_000), GgufValue.FromFloat32(3.25f),
        GgufValue.FromBool(true), GgufValue.FromString("héllo ✓ 世界"), GgufValue.FromUInt64(ulong.MaxValue - 1),
        GgufValue.FromInt64(long.MinValue + 1), GgufValue.FromFloat64(-1e300),
    ];

    [Fact]
    public void Every_value_type_and_arrays_of_arrays_survive_a_round_trip()
    {
        var writer = new GgufWriter();
        var scalars = EveryScalar();
        Assert.Equal(Enum.GetValues<GgufValueType>().Length - 1, scalars.Select(s => s.Type).Distinct().Count());
        foreach (var s in scalars)
        {
            writer.AddMetadata("scalar." + s.Type, s);
            writer.AddMetadata("array." + s.Type, GgufValue.FromArray(s.Type, [s, s, s]));
        }

        writer.AddMetadata("typed.strings", new[] { "a", "", "ccc" });
        writer.AddMetadata("typed.floats", new[] { 1.5f, -0f, float.NaN });
        writer.AddMetadata("typed.ints", new[] { 1, -2, int.MaxValue });
        writer.AddMetadata("typed.uints", new[] { 1u, uint.MaxValue });
        writer.AddMetadata("empty", GgufValue.FromArray(GgufValueType.Float64, []));
        var nested = GgufValue.FromArray(GgufValueType.Array,
        [
            GgufValue.FromInt32Array([1, 2]),
            GgufValue.FromStringArray(["x", "y"]),
            GgufValue.FromArray(GgufValueType.Array, [GgufValue.FromFloat32Array([0.5f])]),
        ]);
        writer.AddMetadata("nested", nested);

        var bytes = Write(writer);
        using var file = GgufFile.OpenBytes(bytes);

        Assert.Equal(3u, file.Version);
        foreach (var s in scalars)
        {
            Assert.Equal(s, file.Metadata["scalar." + s.Type]);
            var array = file.Metadata["array." + s.Type];
            Assert.Equal(s.Type, array.ElementType);
            Assert.Equal([s, s, s], array.AsArray());
        }

        Assert.Equal(["a", "", "ccc"], file.Metadata.GetStringArray("typed.strings")!);
        Assert.Equal(new[] { 1.5f, -0f, float.NaN }, file.Metadata.GetFloat32Array("typed.floats"));
        Assert.Equal([1, -2, int.MaxValue], file.Metadata.GetInt32Array("typed.ints")!);
        Assert.Equal(uint.MaxValue, file.Metadata["typed.uints"].AsArray()[1].AsUInt32());
        Assert.Equal(0, file.Metadata["empty"].Count);
        Assert.Equal(nested, file.Metadata["nested"]);
        Assert.Equal(0.5f, file.Metadata["nested"].AsArray()[2].AsArray()[0].AsFloat32Array()[0]);
        Assert.Equal(scalars.Length * 2 + 6, file.Metadata.Count);
    }

    [Theory]
    [InlineData(GgmlType.F32, 8)]
    [InlineData(GgmlType.F16, 8)]
    [InlineData(GgmlType.BF16, 8)]
    [InlineData(GgmlType.Q8_0, 64)]
    [InlineData(GgmlType.Q4_0, 32)]
    [InlineData(GgmlType.Q4_K, 256)]
    [InlineData(GgmlType.Q6_K, 512)]
    [InlineData(GgmlType.Q8_K, 256)]
    public void Tensors_of_each_supported_type_come_back_byte_for_byte(GgmlType type, long rowLength)
    {
        var random = new Random(17);
        var writer = new GgufWriter();
        writer.AddMetadata("general.architecture", "test");
        var expected = new Dictionary<string, byte[]>();
        for (var i = 0; i < 3; i++)
        {
            long[] dims = [rowLength, 1 + i, 2];
            var data = new byte[GgmlTypeTraits.RowBytes(type, rowLength) * (1 + i) * 2];
            random.NextBytes(data);
            writer.AddTensor($"t{i}", type, dims, data);
            expected[$"t{i}"] = data;
        }

        using var file = GgufFile.OpenBytes(Write(writer));
        Assert.Equal(3, file.Tensors.Count);
        foreach (var t in file.Tensors)
        {
            Assert.Equal(type, t.Type);
            Assert.Equal(expected[t.Name], file.GetTensorBytes(t).ToArray());
            Assert.Equal(0ul, t.Offset % file.Alignment);
        }
    }

    [Theory]
    [InlineData(32u)]
    [InlineData(64u)]
    [InlineData(1u)]
    [InlineData(4096u)]
    public void Alignment_is_written_and_honoured(uint alignment)
    {
        var writer = new GgufWriter { Alignment = alignment };
        writer.AddMetadata("general.name", "aligned");
        writer.AddTensor("a", GgmlType.F32, [3], new byte[12]);
        writer.AddTensor("b", GgmlType.I8, [5], [1, 2, 3, 4, 5]);
        writer.AddTensor("c", GgmlType.F32, [1], new byte[4]);

        using var file = GgufFile.OpenBytes(Write(writer));
        Assert.Equal(alignment, file.Alignment);
        Assert.Equal(alignment != 32, file.Metadata.ContainsKey("general.alignment"));
        Assert.Equal(0, file.DataOffset % alignment);
        Assert.All(file.Tensors, t => Assert.Equal(0ul, t.Offset % alignment));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, file.GetTensorBytes(file.GetTensor("b")).ToArray());
    }

    [Fact]
    public void A_file_written_to_disk_is_read_back_through_the_mapping()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fathom-gguf-{Guid.NewGuid():N}.gguf");
        try
        {
            var writer = new GgufWriter();
            writer.AddMetadata("general.architecture", "llama");
            writer.AddTensor("w", GgmlType.F32, [4, 2], s =>
            {
                for (var i = 0; i < 8; i++)
                {
                    s.Write(BitConverter.GetBytes((float)i));
                }
            });
            writer.WriteTo(path);

            using var file = GgufFile.Open(path);
            Assert.Equal(path, file.FilePath);
            Assert.Equal("llama", file.Metadata.Architecture);
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(file.GetTensor("w")));
            Assert.Equal([0f, 1, 2, 3, 4, 5, 6, 7], floats.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_writer_rejects_what_a_reader_would_reject()
    {
        var writer = new GgufWriter();
        Assert.Throws<ArgumentException>(() => writer.AddTensor("q", GgmlType.Q8_0, [33], new byte[68]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("five", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("zero", GgmlType.F32, [0], []));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("short", GgmlType.F32, [2], new byte[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.AddTensor("bad", (GgmlType)4, [2], new byte[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter { Alignment = 24 });
        writer.AddMetadata("k", 1);
        Assert.Throws<ArgumentException>(() => writer.AddMetadata("k", 2));
        writer.AddTensor("streamed", GgmlType.F32, [2], s => s.Write(new byte[4]));
        Assert.Throws<InvalidOperationException>(() => Write(writer));
    }

    private static byte[] Write(GgufWriter writer)
    {
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }
}
