using Fathom.Gguf;
using Fathom.Testing;

namespace Fathom.Gguf.Tests;

/// <summary>Multi-part (gguf-split) models: stories260K split into 3 parts, opened through the first.</summary>
public sealed class GgufSplitTests : IDisposable
{
    private const int Parts = 3;
    private readonly string _dir = Directory.CreateTempSubdirectory("fathom-split-").FullName;
    private readonly GgufFile _source = GgufFile.Open(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K));

    private string Prefix => Path.Combine(_dir, "stories");

    public void Dispose()
    {
        _source.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Part_names_follow_llama_cpp()
    {
        Assert.Equal("m-00001-of-00003.gguf", GgufSplit.PartPath("m", 0, 3));
        Assert.Equal("/x/m-00012-of-00012.gguf", GgufSplit.PartPath("/x/m", 11, 12));
    }

    [Fact]
    public void Opening_the_first_part_presents_every_tensor_of_every_part()
    {
        var paths = GgufSplitWriter.Write(_source, Prefix, Parts);

        using var split = GgufFile.Open(paths[0]);

        Assert.Equal(paths, split.PartPaths);
        Assert.Equal(_source.Tensors.Select(t => t.Name), split.Tensors.Select(t => t.Name));
        foreach (var expected in _source.Tensors)
        {
            var actual = split.GetTensor(expected.Name);
            Assert.Equal(expected.Type, actual.Type);
            Assert.Equal(expected.Dimensions, actual.Dimensions);
            Assert.True(_source.GetTensorBytes(expected).SequenceEqual(split.GetTensorBytes(actual)), expected.Name);
        }

        // Every part really holds tensors, each at offsets of its own data section.
        for (var i = 0; i < Parts; i++)
        {
            using var part = GgufFile.OpenPart(paths[i]);
            Assert.NotEmpty(part.Tensors);
            Assert.Equal(0UL, part.Tensors[0].Offset);
            Assert.Equal(i, part.Metadata[GgufSplit.NumberKey].AsInt32());
            Assert.Equal(GgufValueType.UInt16, part.Metadata[GgufSplit.NumberKey].Type);
            Assert.Equal(_source.Tensors.Count, part.Metadata.GetInt32(GgufSplit.TensorsCountKey));
            Assert.Equal(i == 0, part.Metadata.ContainsKey("general.architecture"));
        }

        // Part 1 carries the model's metadata unchanged, plus the three split keys.
        Assert.Equal(_source.Metadata.Count + 3, split.Metadata.Count);
        foreach (var (key, value) in _source.Metadata)
        {
            Assert.Equal(value, split.Metadata[key]);
        }
    }

    [Fact]
    public void A_single_part_split_is_an_ordinary_file()
    {
        var paths = GgufSplitWriter.Write(_source, Prefix, 1);
        using var file = GgufFile.Open(paths[0]);
        Assert.Equal(_source.Tensors.Count, file.Tensors.Count);
        Assert.Single(file.PartPaths);
    }

    [Fact]
    public void A_missing_part_is_named()
    {
        var paths = GgufSplitWriter.Write(_source, Prefix, Parts);
        File.Delete(paths[2]);

        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(paths[0]));
        Assert.Equal(paths[2], e.FilePath);
        Assert.Contains("part 3", e.Reason, StringComparison.Ordinal);
        Assert.Contains(GgufSplit.CountKey, e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Opening_a_later_part_asks_for_the_first()
    {
        var paths = GgufSplitWriter.Write(_source, Prefix, Parts);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(paths[1]));
        Assert.Equal(paths[1], e.FilePath);
        Assert.Contains("open the first part", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_first_part_not_named_like_one_cannot_find_its_siblings()
    {
        var paths = GgufSplitWriter.Write(_source, Prefix, Parts);
        var renamed = Path.Combine(_dir, "model.gguf");
        File.Move(paths[0], renamed);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(renamed));
        Assert.Contains(GgufSplit.CountKey, e.Reason, StringComparison.Ordinal);
        Assert.Contains("-00001-of-00003.gguf", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_part_with_the_wrong_split_no_is_named()
    {
        var paths = WriteWithKeys(part => part == 1 ? (2, Parts, _source.Tensors.Count) : (part, Parts, _source.Tensors.Count));
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(paths[0]));
        Assert.Equal(paths[1], e.FilePath);
        Assert.Contains($"'{GgufSplit.NumberKey}' is 2, expected 1", e.Reason, StringComparison.Ordinal);
        Assert.True(e.Offset > 0);
    }

    [Fact]
    public void A_part_that_disagrees_on_the_count_is_named()
    {
        var paths = WriteWithKeys(part => (part, part == 2 ? 4 : Parts, _source.Tensors.Count));
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(paths[0]));
        Assert.Equal(paths[2], e.FilePath);
        Assert.Contains($"'{GgufSplit.CountKey}' is 4, expected 3", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_total_of_tensors_is_named()
    {
        var n = _source.Tensors.Count;
        var paths = WriteWithKeys(part => (part, Parts, n - 1));
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(paths[0]));
        Assert.Equal(paths[0], e.FilePath);
        Assert.Contains($"'{GgufSplit.TensorsCountKey}' is {n - 1} but the 3 parts hold {n} tensors", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tensor_in_two_parts_is_named()
    {
        var n = _source.Tensors.Count;
        var writers = GgufSplitWriter.CreateParts(_source, Parts, addSplitKeys: false);
        for (var i = 0; i < Parts; i++)
        {
            AddKeys(writers[i], i, Parts, n + 1);
        }

        var first = _source.Tensors[0];
        writers[2].AddTensor(first.Name, first.Type, first.Dimensions, _source.GetTensorBytes(first));
        var paths = WriteAll(writers);

        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(paths[0]));
        Assert.Equal(paths[2], e.FilePath);
        Assert.Contains($"tensor '{first.Name}' is duplicated", e.Reason, StringComparison.Ordinal);
        Assert.Contains(paths[0], e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_tensor_in_a_later_part_is_rejected_as_in_a_single_file()
    {
        var paths = GgufSplitWriter.Write(_source, Prefix, Parts);

        // Cut the last part short: its last tensor's data runs past the end of the file.
        using (var stream = new FileStream(paths[2], FileMode.Open))
        {
            stream.SetLength(stream.Length - 4);
        }

        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(paths[0]));
        Assert.Equal(paths[2], e.FilePath);
    }

    public static TheoryData<string, GgufValue> WrongTypes()
    {
        GgufValue[] values =
        [
            GgufValue.FromUInt8(1), GgufValue.FromInt8(1), GgufValue.FromInt16(1), GgufValue.FromUInt32(1),
            GgufValue.FromInt32(1), GgufValue.FromUInt64(1), GgufValue.FromInt64(1), GgufValue.FromFloat32(1),
            GgufValue.FromFloat64(1), GgufValue.FromBool(true), GgufValue.FromString("1"), GgufValue.FromInt32Array([1]),
            GgufValue.FromUInt16(1),
        ];
        var data = new TheoryData<string, GgufValue>();
        foreach (var key in new[] { GgufSplit.NumberKey, GgufSplit.CountKey, GgufSplit.TensorsCountKey })
        {
            var expected = key == GgufSplit.TensorsCountKey ? GgufValueType.Int32 : GgufValueType.UInt16;
            foreach (var value in values.Where(v => v.Type != expected))
            {
                data.Add(key, value);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public void A_split_key_of_the_wrong_type_is_named(string key, GgufValue value)
    {
        var n = _source.Tensors.Count;
        var writers = GgufSplitWriter.CreateParts(_source, Parts, addSplitKeys: false);
        for (var i = 0; i < Parts; i++)
        {
            var keys = new Dictionary<string, GgufValue>
            {
                [GgufSplit.NumberKey] = GgufValue.FromUInt16((ushort)i),
                [GgufSplit.CountKey] = GgufValue.FromUInt16(Parts),
                [GgufSplit.TensorsCountKey] = GgufValue.FromInt32(n),
            };
            keys[key] = value;
            foreach (var (k, v) in keys)
            {
                writers[i].AddMetadata(k, v);
            }
        }

        var paths = WriteAll(writers);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(paths[0]));
        Assert.Equal(paths[0], e.FilePath);
        Assert.Contains($"'{key}'", e.Reason, StringComparison.Ordinal);
        Assert.True(e.Offset > 0);
    }

    [Fact]
    public void Random_split_keys_open_only_when_consistent_and_otherwise_fail_typed()
    {
        var n = _source.Tensors.Count;
        var random = new Random(20261207);
        var opened = 0;
        var consistentRounds = 0;
        for (var round = 0; round < 80; round++)
        {
            // Each part's keys are right, off by a little, absent, or of another integer type.
            var choices = new (GgufValue? No, GgufValue? Count, GgufValue? Total)[Parts];
            for (var i = 0; i < Parts; i++)
            {
                choices[i] = (MutateUInt16(random, i), MutateUInt16(random, Parts), MutateInt32(random, n));
            }

            var consistent = choices.Select((c, i) => Equals(c.No, GgufValue.FromUInt16((ushort)i))
                && Equals(c.Count, GgufValue.FromUInt16(Parts)) && Equals(c.Total, GgufValue.FromInt32(n))).All(ok => ok);
            consistentRounds += consistent ? 1 : 0;
            var writers = GgufSplitWriter.CreateParts(_source, Parts, addSplitKeys: false);
            for (var i = 0; i < Parts; i++)
            {
                AddIfPresent(writers[i], GgufSplit.NumberKey, choices[i].No);
                AddIfPresent(writers[i], GgufSplit.CountKey, choices[i].Count);
                AddIfPresent(writers[i], GgufSplit.TensorsCountKey, choices[i].Total);
            }

            var paths = WriteAll(writers);
            try
            {
                using var file = GgufFile.Open(paths[0]);
                opened++;

                // A first part whose count is absent or 1 is a single file: then the others are never read.
                var single = choices[0].Count is null || Equals(choices[0].Count, GgufValue.FromUInt16(1));
                Assert.True(consistent || single, $"round {round} opened an inconsistent split");
                Assert.Equal(single ? file.Tensors.Count : n, file.Tensors.Count);
            }
            catch (GgufFormatException e)
            {
                Assert.False(consistent, $"round {round}: {e.Message}");
                Assert.Contains("split", e.Reason, StringComparison.Ordinal);
            }
        }

        Assert.InRange(opened, 1, 79);
        Assert.True(consistentRounds > 0, "no round was consistent: the seed exercises only failures");
    }

    [Fact]
    public void In_memory_data_of_a_split_part_is_rejected()
    {
        var paths = GgufSplitWriter.Write(_source, Prefix, Parts);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.OpenBytes(File.ReadAllBytes(paths[0])));
        Assert.Contains("split", e.Reason, StringComparison.Ordinal);
    }

    private static GgufValue? MutateUInt16(Random random, int right) => random.Next(24) switch
    {
        0 => null,
        1 => GgufValue.FromUInt16((ushort)Math.Max(0, right - 1)),
        2 => GgufValue.FromUInt16((ushort)(right + 1)),
        3 => GgufValue.FromUInt32((uint)right),
        _ => GgufValue.FromUInt16((ushort)right),
    };

    private static GgufValue? MutateInt32(Random random, int right) => random.Next(24) switch
    {
        0 => null,
        1 => GgufValue.FromInt32(right - 1),
        2 => GgufValue.FromInt32(-1),
        3 => GgufValue.FromUInt16((ushort)right),
        _ => GgufValue.FromInt32(right),
    };

    private static void AddIfPresent(GgufWriter writer, string key, GgufValue? value)
    {
        if (value is not null)
        {
            writer.AddMetadata(key, value);
        }
    }

    private static void AddKeys(GgufWriter writer, int no, int count, int total)
    {
        writer.AddMetadata(GgufSplit.NumberKey, (ushort)no);
        writer.AddMetadata(GgufSplit.CountKey, (ushort)count);
        writer.AddMetadata(GgufSplit.TensorsCountKey, total);
    }

    private string[] WriteWithKeys(Func<int, (int No, int Count, int Total)> keys)
    {
        var writers = GgufSplitWriter.CreateParts(_source, Parts, addSplitKeys: false);
        for (var i = 0; i < Parts; i++)
        {
            var (no, count, total) = keys(i);
            AddKeys(writers[i], no, count, total);
        }

        return WriteAll(writers);
    }

    private string[] WriteAll(GgufWriter[] writers)
    {
        var paths = new string[writers.Length];
        for (var i = 0; i < writers.Length; i++)
        {
            paths[i] = GgufSplit.PartPath(Prefix, i, writers.Length);
            writers[i].WriteTo(paths[i]);
        }

        return paths;
    }
}
