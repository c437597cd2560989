using System.Buffers.Binary;
using System.Text;

namespace Fathom.Safetensors.Tests;

/// <summary>What the writer writes the reader reads back: names, dtypes, shapes, bytes and metadata, single or sharded.</summary>
public sealed class SafetensorsRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fathom-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<SafetensorsTensor> Sample() =>
    [
        new("a.f32", SafetensorsDType.F32, [2, 3], Bytes(24, 1)),
        new("b.bf16", SafetensorsDType.BF16, [5], Bytes(10, 2)),
        new("c.fp8", SafetensorsDType.F8_E4M3, [4, 4], Bytes(16, 3)),
        new("d.i32", SafetensorsDType.I32, [3], Bytes(12, 4)),
        new("e.u8", SafetensorsDType.U8, [7], Bytes(7, 5)),
        new("f.scalar", SafetensorsDType.F16, [], Bytes(2, 6)),
        new("g.empty", SafetensorsDType.F32, [0, 4], Bytes(0, 7)),
    ];

    [Fact]
    public void A_single_file_reads_back_every_tensor_and_the_metadata()
    {
        var path = Path.Combine(_dir, "x.safetensors");
        var tensors = Sample();
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(0, file.DataOffset % 8);
        Assert.Equal(tensors.Select(t => t.Name), file.Tensors.Select(t => t.Name));
        foreach (var expected in tensors)
        {
            var actual = file.FindTensor(expected.Name)!;
            Assert.Equal(expected.DType, actual.DType);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.True(file.GetTensorBytes(actual).SequenceEqual(expected.Data().Span), expected.Name);
        }

        var header = File.ReadAllBytes(path);
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(header);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a.f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}", Encoding.UTF8.GetString(header, 8, length));
    }

    [Fact]
    public void A_sharded_checkpoint_opens_through_its_index()
    {
        var tensors = Sample();
        var shards = SafetensorsWriter.WriteSharded(_dir, tensors, maxShardBytes: 30);
        Assert.True(shards.Count >= 3);

        using var checkpoint = SafetensorsCheckpoint.Open(_dir);
        Assert.NotNull(checkpoint.IndexPath);
        Assert.Equal(shards.Count, checkpoint.FilePaths.Count);
        Assert.Equal(tensors.Sum(t => t.ByteSize), checkpoint.TensorBytes);
        foreach (var expected in tensors)
        {
            var actual = checkpoint.FindTensor(expected.Name)!;
            Assert.True(checkpoint.GetTensorBytes(actual).SequenceEqual(expected.Data().Span), expected.Name);
        }

        Assert.NotEqual(checkpoint.FileOf(checkpoint.FindTensor("a.f32")!), checkpoint.FileOf(checkpoint.FindTensor("g.empty")!));
    }

    [Fact]
    public void The_reference_format_example_parses()
    {
        // The example of the format's documentation: 8-byte length, then the JSON, then the data.
        var bytes = RawSafetensors.Build("{\"TEST\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16);
        using var file = SafetensorsFile.OpenBytes(bytes);
        var t = Assert.Single(file.Tensors);
        Assert.Equal(SafetensorsDType.I32, t.DType);
        Assert.Equal(16, t.ByteSize);
    }

    private static byte[] Bytes(int count, int seed) => Enumerable.Range(0, count).Select(i => (byte)((i * 31) + seed)).ToArray();
}
