using System.CommandLine;
using System.Runtime.InteropServices;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Cli.Commands;

/// <summary>
/// <c>fathom synthetic --out FILE --type q8_0 --shape llama3-8b</c>: writes a Llama-shaped GGUF model of random
/// weights, for speed measurements where no real model can be fetched. Each matrix cycles through a few seeded
/// random rows, so even an 8B model is written at disk speed; values are meaningless, shapes and bytes are real.
/// </summary>
internal static class SyntheticCommand
{
    private const int DistinctRows = 16;

    private static readonly Dictionary<string, Shape> Shapes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["llama3-8b"] = new(4096, 32, 32, 8, 14336, 128256),
        ["llama3-70b"] = new(8192, 80, 64, 8, 28672, 128256),
        ["llama3-1b"] = new(2048, 16, 32, 8, 8192, 128256),
        ["tiny"] = new(256, 2, 16, 4, 512, 512),
    };

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Where to write the GGUF file.", Required = true };
        var type = new Option<string>("--type") { Description = "Matrix type: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k.", DefaultValueFactory = _ => "q8_0" };
        var shape = new Option<string>("--shape") { Description = "llama3-8b, llama3-70b, llama3-1b or tiny.", DefaultValueFactory = _ => "llama3-8b" };
        var layers = new Option<int?>("--layers") { Description = "Override the shape's layer count." };
        var command = new Command("synthetic", "Write a Llama-shaped model of random weights (for benchmarks).") { output, type, shape, layers };
        command.SetAction(r => Run(r.GetRequiredValue(output), r.GetValue(type)!, r.GetValue(shape)!, r.GetValue(layers), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(string path, string typeName, string shapeName, int? layers, TextWriter output, TextWriter error)
    {
        if (!Enum.TryParse<GgmlType>(typeName, ignoreCase: true, out var type) || type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K))
        {
            error.WriteLine($"fathom synthetic: unknown or unsupported type '{typeName}' (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)");
            return ModelCommandSupport.ExitFailure;
        }

        if (!Shapes.TryGetValue(shapeName, out var s))
        {
            error.WriteLine($"fathom synthetic: unknown shape '{shapeName}' ({string.Join(", ", Shapes.Keys)})");
            return ModelCommandSupport.ExitFailure;
        }

        if (layers is { } l)
        {
            s = s with { Layers = l };
        }

        try
        {
            Write(path, s, type);
            output.WriteLine($"wrote {path}: {shapeName} ({s.Layers} layers) in {type}, {new FileInfo(path).Length / 1e9:F2} GB");
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return ModelCommandSupport.Fail(error, "synthetic", e);
        }
    }

    private static void Write(string path, Shape shape, GgmlType type)
    {
        const string Arch = "llama";
        var w = new GgufWriter();
        var headDim = shape.Embedding / shape.Heads;
        w.AddMetadata("general.architecture", Arch);
        w.AddMetadata("general.name", $"fathom-synthetic-{type}");
        w.AddMetadata($"{Arch}.context_length", 8192u);
        w.AddMetadata($"{Arch}.embedding_length", (uint)shape.Embedding);
        w.AddMetadata($"{Arch}.block_count", (uint)shape.Layers);
        w.AddMetadata($"{Arch}.feed_forward_length", (uint)shape.FeedForward);
        w.AddMetadata($"{Arch}.attention.head_count", (uint)shape.Heads);
        w.AddMetadata($"{Arch}.attention.head_count_kv", (uint)shape.KvHeads);
        w.AddMetadata($"{Arch}.rope.dimension_count", (uint)headDim);
        w.AddMetadata($"{Arch}.rope.freq_base", 500000f);
        w.AddMetadata($"{Arch}.attention.layer_norm_rms_epsilon", 1e-5f);
        w.AddMetadata($"{Arch}.vocab_size", (uint)shape.Vocabulary);
        var random = new Random(1234);
        var q = shape.Heads * headDim;
        var kv = shape.KvHeads * headDim;
        Matrix(w, "token_embd.weight", type, shape.Embedding, shape.Vocabulary, 1f, random);
        for (var l = 0; l < shape.Layers; l++)
        {
            var p = $"blk.{l}.";
            Norm(w, p + "attn_norm.weight", shape.Embedding);
            Matrix(w, p + "attn_q.weight", type, shape.Embedding, q, MathF.Sqrt(3f / shape.Embedding), random);
            Matrix(w, p + "attn_k.weight", type, shape.Embedding, kv, MathF.Sqrt(3f / shape.Embedding), random);
            Matrix(w, p + "attn_v.weight", type, shape.Embedding, kv, MathF.Sqrt(3f / shape.Embedding), random);
            Matrix(w, p + "attn_output.weight", type, q, shape.Embedding, MathF.Sqrt(3f / q), random);
            Norm(w, p + "ffn_norm.weight", shape.Embedding);
            Matrix(w, p + "ffn_gate.weight", type, shape.Embedding, shape.FeedForward, MathF.Sqrt(3f / shape.Embedding), random);
            Matrix(w, p + "ffn_up.weight", type, shape.Embedding, shape.FeedForward, MathF.Sqrt(3f / shape.Embedding), random);
            Matrix(w, p + "ffn_down.weight", type, shape.FeedForward, shape.Embedding, MathF.Sqrt(3f / shape.FeedForward), random);
        }

        Norm(w, "output_norm.weight", shape.Embedding);
        Matrix(w, "output.weight", type, shape.Embedding, shape.Vocabulary, 4 * MathF.Sqrt(3f / shape.Embedding), random);
        w.WriteTo(path);
    }

    private static void Norm(GgufWriter w, string name, int length)
    {
        var values = new float[length];
        Array.Fill(values, 1f);
        w.AddTensor(name, GgmlType.F32, [length], MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static void Matrix(GgufWriter w, string name, GgmlType type, int columns, int rows, float scale, Random random)
    {
        var rowBytes = (int)GgmlTypeTraits.RowBytes(type, columns);
        var distinct = new byte[DistinctRows][];
        var row = new float[columns];
        for (var d = 0; d < DistinctRows; d++)
        {
            for (var i = 0; i < columns; i++)
            {
                row[i] = scale * (float)((random.NextDouble() * 2) - 1);
            }

            distinct[d] = new byte[rowBytes];
            Encode(type, row, distinct[d]);
        }

        w.AddTensor(name, type, [columns, rows], stream =>
        {
            for (var r = 0; r < rows; r++)
            {
                stream.Write(distinct[(r * 7) % DistinctRows]);
            }
        });
    }

    private static void Encode(GgmlType type, ReadOnlySpan<float> row, Span<byte> bytes)
    {
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.AsBytes(row).CopyTo(bytes);
                break;
            case GgmlType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (var i = 0; i < row.Length; i++)
                {
                    halves[i] = (Half)row[i];
                }

                break;
            case GgmlType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (var i = 0; i < row.Length; i++)
                {
                    bf[i] = (ushort)(BitConverter.SingleToUInt32Bits(row[i]) >> 16);
                }

                break;
            case GgmlType.Q8_0: Q8_0.Quantize(row, bytes, row.Length); break;
            case GgmlType.Q4_0: Q4_0.Quantize(row, bytes, row.Length); break;
            case GgmlType.Q4_K: Q4K.Quantize(row, bytes, row.Length); break;
            case GgmlType.Q6_K: Q6K.Quantize(row, bytes, row.Length); break;
            default: throw new ArgumentException($"type {type} cannot be written");
        }
    }

    private sealed record Shape(int Embedding, int Layers, int Heads, int KvHeads, int FeedForward, int Vocabulary);
}
