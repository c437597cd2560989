using Fathom.Safetensors;

namespace Fathom.Fuzz;

/// <summary>
/// The safetensors fuzz target: parse the input as a safetensors file and touch every tensor's first and last byte.
/// <see cref="SafetensorsFormatException"/> is the expected way to fail; any other exception is a finding.
/// </summary>
internal static class SafetensorsTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        try
        {
            using var file = SafetensorsFile.OpenBytes(input.ToArray(), "fuzz-input");
            long sink = file.Metadata.Sum(m => m.Key.Length + m.Value.Length);
            foreach (var tensor in file.Tensors)
            {
                var bytes = file.GetTensorBytes(tensor);
                sink += bytes.IsEmpty ? 0 : bytes[0] + bytes[^1];
            }

            GC.KeepAlive(sink);
        }
        catch (SafetensorsFormatException)
        {
        }
    }

    /// <summary>Small valid safetensors files: a starting corpus.</summary>
    public static int WriteSeeds(string directory)
    {
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, "empty.safetensors"), []);
        SafetensorsWriter.Write(Path.Combine(directory, "one.safetensors"), [new("w", SafetensorsDType.F32, [2, 2], new byte[16])]);
        SafetensorsWriter.Write(Path.Combine(directory, "mixed.safetensors"),
        [
            new("model.embed_tokens.weight", SafetensorsDType.BF16, [4, 2], new byte[16]),
            new("q.weight", SafetensorsDType.F8_E4M3, [2, 4], new byte[8]),
            new("q.weight_scale", SafetensorsDType.F32, [], new byte[4]),
            new("qweight", SafetensorsDType.I32, [1, 2], new byte[8]),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        return 3;
    }
}
