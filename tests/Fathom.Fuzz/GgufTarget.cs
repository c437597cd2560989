using Fathom.Gguf;

namespace Fathom.Fuzz;

/// <summary>
/// The fuzz target: parse the input as a GGUF file, read every metadata value and touch every tensor's bytes.
/// <see cref="GgufFormatException"/> is the expected way to fail; any other exception is a finding.
/// </summary>
internal static class GgufTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        try
        {
            using var file = GgufFile.OpenBytes(input.ToArray(), "fuzz-input");
            long sink = 0;
            foreach (var (key, value) in file.Metadata)
            {
                sink += key.Length + Touch(value);
            }

            foreach (var tensor in file.Tensors)
            {
                var bytes = file.GetTensorBytes(tensor);
                sink += bytes[0] + bytes[^1] + tensor.ByteSize;
            }

            GC.KeepAlive(sink);
        }
        catch (GgufFormatException)
        {
        }
    }

    private static long Touch(GgufValue value)
    {
        long sink = value.ToDisplayString().Length;
        if (value.Type == GgufValueType.Array)
        {
            foreach (var element in value.AsArray())
            {
                sink += Touch(element);
            }
        }

        return sink;
    }
}
