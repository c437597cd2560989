using System.Globalization;
using Fathom.Gguf;

namespace Fathom.Fuzz;

/// <summary>Small valid GGUF files covering each value type, nesting, alignment and tensor type: a starting corpus.</summary>
internal static class SeedCorpus
{
    private static readonly float[] Scores = [0f, -1f, -2f];
    private static readonly int[] TokenTypes = [1, 2, 3];

    public static int Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var count = 0;
        foreach (var (name, writer) in Seeds())
        {
            writer.WriteTo(Path.Combine(directory, name + ".gguf"));
            count++;
        }

        return count;
    }

    private static IEnumerable<(string Name, GgufWriter Writer)> Seeds()
    {
        yield return ("empty", new GgufWriter());

        var scalars = new GgufWriter();
        scalars.AddMetadata("general.architecture", "llama")
            .AddMetadata("u8", (byte)1).AddMetadata("i8", (sbyte)-1).AddMetadata("u16", (ushort)2).AddMetadata("i16", (short)-2)
            .AddMetadata("u32", 3u).AddMetadata("i32", -3).AddMetadata("u64", 4ul).AddMetadata("i64", -4L)
            .AddMetadata("f32", 0.5f).AddMetadata("f64", 0.25).AddMetadata("bool", true);
        yield return ("scalars", scalars);

        var arrays = new GgufWriter();
        arrays.AddMetadata("tokens", ["a", "b", "<s>"]).AddMetadata("scores", Scores)
            .AddMetadata("types", TokenTypes)
            .AddMetadata("nested", [GgufValue.FromInt32Array([1, 2]), GgufValue.FromStringArray(["x"])]);
        yield return ("arrays", arrays);

        foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K })
        {
            var writer = new GgufWriter { Alignment = type == GgmlType.F32 ? 64u : 32u };
            writer.AddMetadata("general.architecture", "llama");
            var row = GgmlTypeTraits.BlockSize(type) * (type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 ? 8 : 1);
            writer.AddTensor("a.weight", type, [row, 2], new byte[GgmlTypeTraits.RowBytes(type, row) * 2]);
            writer.AddTensor("b.weight", type, [row], new byte[GgmlTypeTraits.RowBytes(type, row)]);
            yield return ("tensors-" + type.ToString().ToLower(CultureInfo.InvariantCulture), writer);
        }
    }
}
