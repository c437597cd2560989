using System.Diagnostics;
using Fathom.Gguf;
using Fathom.Testing;

namespace Fathom.Gguf.Tests;

/// <summary>
/// Mutates the shared GGUF files (truncation at every section boundary and at random points, byte flips, huge
/// values in count/length fields) and checks that each mutant either opens cleanly or fails with
/// <see cref="GgufFormatException"/>. Seed and case count come from FATHOM_GGUF_FUZZ_SEED / FATHOM_GGUF_FUZZ_CASES
/// for longer runs; a failure names the seed, file and case so it can be replayed.
/// </summary>
public sealed class GgufFuzzTests
{
    private const int DefaultSeed = 20261128;

    public static TheoryData<string, int> Files => new()
    {
        // (file, random cases): the big vocabularies parse slower, so they get fewer cases.
        { SharedFixtures.Stories260K, 1500 },
        { SharedFixtures.Stories260KQ8, 800 },
        { SharedFixtures.LlamaTinyRandom, 200 },
        { "vocab/ggml-vocab-llama-spm.gguf", 150 },
        { "vocab/ggml-vocab-gpt-2.gguf", 60 },
        { "vocab/ggml-vocab-deepseek-coder.gguf", 60 },
        { "vocab/ggml-vocab-deepseek-llm.gguf", 30 },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Mutants_open_or_fail_with_GgufFormatException(string relativePath, int randomCases)
    {
        var path = SharedFixtures.Default.GetPath(relativePath);
        var original = File.ReadAllBytes(path);
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FATHOM_GGUF_FUZZ_SEED"), out var s) ? s : DefaultSeed;
        var scale = double.TryParse(Environment.GetEnvironmentVariable("FATHOM_GGUF_FUZZ_SCALE"), System.Globalization.CultureInfo.InvariantCulture, out var f) ? f : 1.0;
        randomCases = (int)(randomCases * scale);

        var layout = new GgufLayout();
        try
        {
            GgufFile.OpenBytes(original, relativePath, layout).Dispose();
        }
        catch (GgufFormatException)
        {
            // The v2 Q8_0 file is rejected by design; the layout up to the rejection still guides mutations.
        }

        Assert.NotEmpty(layout.SectionEnds);
        Assert.NotEmpty(layout.CountFields);
        var headerEnd = layout.SectionEnds.Max();
        var failures = new List<string>();
        var cases = 0;
        var clock = Stopwatch.StartNew();

        // Truncation at (and one byte either side of) every section boundary.
        foreach (var end in layout.SectionEnds.SelectMany(b => new[] { b - 1, b, b + 1 }).Distinct())
        {
            if (end >= 0 && end < original.Length)
            {
                Check(original[..(int)end], $"truncate at {end}");
            }
        }

        var random = new Random(seed);
        for (var i = 0; i < randomCases; i++)
        {
            var mutant = (byte[])original.Clone();
            string what;
            switch (random.Next(3))
            {
                case 0:
                    var at = random.Next(original.Length);
                    mutant = original[..at];
                    what = $"truncate at {at}";
                    break;
                case 1:
                    var flips = 1 + random.Next(8);
                    var positions = new List<long>();
                    for (var k = 0; k < flips; k++)
                    {
                        // Mostly in the header, where flips change structure rather than weights.
                        var limit = random.Next(5) == 0 ? original.Length : Math.Min(original.Length, headerEnd + 1);
                        var p = random.NextInt64(limit);
                        mutant[p] ^= (byte)(1 << random.Next(8));
                        positions.Add(p);
                    }

                    what = $"flip bits at {string.Join(",", positions)}";
                    break;
                default:
                    var (offset, width) = layout.CountFields[random.Next(layout.CountFields.Count)];
                    var value = HugeValue(random, width, original.Length);
                    if (width == 8)
                    {
                        BitConverter.TryWriteBytes(mutant.AsSpan((int)offset, 8), value);
                    }
                    else
                    {
                        BitConverter.TryWriteBytes(mutant.AsSpan((int)offset, 4), (uint)value);
                    }

                    what = $"write {value} into the {width}-byte field at {offset}";
                    break;
            }

            Check(mutant, what);
        }

        Assert.True(failures.Count == 0,
            $"{failures.Count} of {cases} mutants of {relativePath} failed (seed {seed}):\n{string.Join("\n", failures.Take(10))}");
        TestContext.Current.SendDiagnosticMessage($"{relativePath}: {cases} mutants in {clock.ElapsedMilliseconds} ms (seed {seed})");

        void Check(byte[] bytes, string what)
        {
            cases++;
            try
            {
                Exercise(bytes, relativePath);
            }
            catch (GgufFormatException)
            {
            }
            catch (Exception e)
            {
                failures.Add($"case {cases} ({what}): {e.GetType().Name}: {e.Message}");
            }
        }
    }

    [Fact]
    public void Truncations_at_each_boundary_fail_cleanly_through_the_file_mapping()
    {
        var original = File.ReadAllBytes(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K));
        var layout = new GgufLayout();
        GgufFile.OpenBytes(original, layout: layout).Dispose();
        var path = Path.Combine(Path.GetTempPath(), $"fathom-trunc-{Guid.NewGuid():N}.gguf");
        try
        {
            var checkedCount = 0;
            foreach (var end in layout.SectionEnds.Where(e => e < original.Length).Distinct().Take(80))
            {
                File.WriteAllBytes(path, original[..(int)end]);
                var e = Assert.Throws<GgufFormatException>(() => Exercise(path));
                Assert.Equal(path, e.FilePath);
                checkedCount++;
            }

            Assert.True(checkedCount > 20);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static ulong HugeValue(Random random, int width, long fileLength) => (width, random.Next(6)) switch
    {
        (8, 0) => ulong.MaxValue,
        (8, 1) => long.MaxValue,
        (8, 2) => 1UL << 40,
        (8, 3) => (ulong)fileLength,
        (8, 4) => (ulong)fileLength + 1,
        (8, _) => (ulong)random.NextInt64(),
        (_, 0) => uint.MaxValue,
        (_, 1) => 0x8000_0000,
        (_, 2) => 0,
        (_, 3) => 5,
        _ => (uint)random.Next(64),
    };

    private static void Exercise(byte[] bytes, string name)
    {
        using var file = GgufFile.OpenBytes(bytes, name);
        Touch(file);
    }

    private static void Exercise(string path)
    {
        using var file = GgufFile.Open(path);
        Touch(file);
    }

    // Reads every metadata value through its typed accessor and the first and last byte of every tensor.
    private static void Touch(GgufFile file)
    {
        long sink = 0;
        foreach (var (key, value) in file.Metadata)
        {
            sink += key.Length + TouchValue(value);
        }

        foreach (var t in file.Tensors)
        {
            var bytes = file.GetTensorBytes(t);
            sink += bytes[0] + bytes[^1];
        }

        GC.KeepAlive(sink);
    }

    private static long TouchValue(GgufValue value)
    {
        long sink = value.ToDisplayString(4).Length;
        switch (value.ElementType)
        {
            case null:
                break;
            case GgufValueType.String:
                sink += value.AsStringArray().Sum(x => (long)x.Length);
                break;
            case GgufValueType.Float32 or GgufValueType.Float64:
                sink += value.AsFloat32Array().Length;
                break;
            case GgufValueType.Array:
                sink += value.AsArray().Sum(TouchValue);
                break;
            default:
                sink += value.AsArray().Count > 0 ? value.AsArray()[^1].ToDisplayString().Length : 0;
                break;
        }

        return sink;
    }
}
