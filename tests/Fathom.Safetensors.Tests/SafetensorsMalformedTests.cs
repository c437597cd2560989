namespace Fathom.Safetensors.Tests;

/// <summary>Every malformed file fails with <see cref="SafetensorsFormatException"/> naming the file and the field at fault.</summary>
public sealed class SafetensorsMalformedTests : IDisposable
{
    private const string Good = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[8,16]}}";

    private readonly string _dir = Directory.CreateTempSubdirectory("fathom-st-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, int, string> BadHeaders => new()
    {
        { "not json", 0, "header" },
        { "[1,2]", 0, "header" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]", 0, "header" },
        { "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'a'.dtype" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "tensor 'a'.data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "tensor 'a'.shape" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8, "tensor 'a'.data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "tensor 'a'.data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "tensor 'a'.data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "data section" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "tensor 'b'.data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16, "tensor 'b'.data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "tensor 'a'" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8, "tensor 'a'.extra" },
        { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "tensor 'a'.shape" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8, "tensor 'a'.shape" },
        { "{\"__metadata__\":{\"x\":1}}", 0, "__metadata__['x']" },
        { "{\"a\":[1]}", 0, "tensor 'a'" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void A_bad_header_names_the_field(string header, int dataBytes, string field)
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.OpenBytes(RawSafetensors.Build(header, dataBytes), "bad.safetensors").Dispose());
        Assert.Equal("bad.safetensors", e.FilePath);
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_header_or_header_length_fails_through_the_file_mapping()
    {
        var good = RawSafetensors.Build(Good, 16);
        var path = Path.Combine(_dir, "t.safetensors");
        using (SafetensorsFile.OpenBytes(good))
        {
        }

        foreach (var (length, field) in new[] { (0, "header length"), (5, "header length"), (8, "header length"), (40, "header length"), (good.Length - 1, "tensor 'b'.data_offsets") })
        {
            File.WriteAllBytes(path, good[..length]);
            var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
            Assert.Equal(path, e.FilePath);
            Assert.Equal(field, e.Field);
        }

        var huge = RawSafetensors.Build(Good, 16, headerLength: ulong.MaxValue);
        Assert.Equal("header length", Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.OpenBytes(huge).Dispose()).Field);
    }

    [Fact]
    public void A_missing_shard_names_the_index_and_the_tensor()
    {
        SafetensorsWriter.WriteSharded(_dir, [new("x", SafetensorsDType.F32, [4], new byte[16]), new("y", SafetensorsDType.F32, [4], new byte[16])], maxShardBytes: 16);
        File.Delete(Path.Combine(_dir, "model-00002-of-00002.safetensors"));

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(_dir).Dispose());
        Assert.Equal(Path.Combine(_dir, SafetensorsCheckpoint.IndexFileName), e.FilePath);
        Assert.Equal("weight_map['y']", e.Field);
        Assert.Contains("model-00002-of-00002.safetensors", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"weight_map\":{\"x\":\"../outside.safetensors\"}}", "weight_map['x']")]
    [InlineData("{\"weight_map\":{\"x\":\"/etc/passwd\"}}", "weight_map['x']")]
    [InlineData("{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\"}}", "weight_map")]
    [InlineData("{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\",\"y\":\"model-00001-of-00002.safetensors\"}}", "weight_map['y']")]
    [InlineData("{\"metadata\":{}}", "weight_map")]
    [InlineData("{", "")]
    public void A_bad_index_names_the_entry(string index, string field)
    {
        SafetensorsWriter.WriteSharded(_dir, [new("x", SafetensorsDType.F32, [4], new byte[16]), new("z", SafetensorsDType.F32, [4], new byte[16])], maxShardBytes: 32);
        File.Move(Path.Combine(_dir, "model-00001-of-00001.safetensors"), Path.Combine(_dir, "model-00001-of-00002.safetensors"));
        var path = Path.Combine(_dir, SafetensorsCheckpoint.IndexFileName);
        File.WriteAllText(path, index);

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(_dir).Dispose());
        Assert.Equal(path, e.FilePath);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void A_directory_without_weights_says_what_it_looked_for()
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(_dir).Dispose());
        Assert.Contains(SafetensorsCheckpoint.IndexFileName, e.Message, StringComparison.Ordinal);
    }
}
