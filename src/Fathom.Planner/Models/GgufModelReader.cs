using Fathom.Gguf;
using Fathom.Planner.Formats;

namespace Fathom.Planner.Models;

/// <summary>
/// Reads a GGUF file's header only (the engine's reader maps the file; no tensor data is touched): the model's
/// shape from its metadata and the exact bytes of every tensor, so a Q4_K_M file's Q4_K/Q6_K mix is counted as stored.
/// </summary>
public static class GgufModelReader
{
    private static readonly HashSet<string> SupportedArchitectures = new(StringComparer.Ordinal) { "llama", "qwen2", "mistral" };

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="PlannerInputException">The file is missing, malformed, or not a Llama-family model.</exception>
    public static (ModelShape Shape, WeightBudget Weights) Read(string path)
    {
        try
        {
            using var file = GgufFile.Open(path);
            return FromHeader(file, Path.GetFileNameWithoutExtension(path));
        }
        catch (GgufFormatException e)
        {
            throw new PlannerInputException($"cannot plan for '{path}': {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new PlannerInputException($"cannot read '{path}': {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PlannerInputException($"cannot read '{path}': {e.Message}", e);
        }
    }

    /// <summary>The shape and exact weight bytes of an open file.</summary>
    /// <exception cref="PlannerInputException">Not a Llama-family model, or metadata the shape needs is missing.</exception>
    public static (ModelShape Shape, WeightBudget Weights) FromHeader(GgufFile file, string name)
    {
        ArgumentNullException.ThrowIfNull(file);
        var meta = file.Metadata;
        var arch = meta.GetString("general.architecture") ?? "";
        if (!SupportedArchitectures.Contains(arch))
        {
            throw new PlannerInputException($"'{name}' is a '{arch}' model; the planner knows llama, qwen2 and mistral");
        }

        var embedding = file.FindTensor("token_embd.weight")
            ?? throw new PlannerInputException($"'{name}' has no token_embd.weight tensor");
        var output = file.FindTensor("output.weight");
        int Key(string key, int? fallback = null)
        {
            try
            {
                return checked((int)meta.GetUInt32($"{arch}.{key}", fallback is null ? null : (uint)fallback.Value));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or GgufFormatException or InvalidCastException)
            {
                throw new PlannerInputException($"'{name}' lacks usable metadata '{arch}.{key}': {e.Message}", e);
            }
        }

        var hidden = Key("embedding_length");
        var heads = Key("attention.head_count");
        var shape = new ModelShape(name, Key("block_count"), hidden, heads, Key("attention.head_count_kv", heads),
            Key("attention.key_length", hidden / heads), Key("feed_forward_length"), checked((int)embedding.Dimensions[1]),
            TiedEmbeddings: output is null, AttentionBias: file.FindTensor("blk.0.attn_q.bias") is not null, Key("context_length", 4096));

        var byType = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var tensor in file.Tensors)
        {
            byType[tensor.Type.ToString()] = byType.GetValueOrDefault(tensor.Type.ToString()) + tensor.ByteSize;
        }

        var total = byType.Values.Sum();
        var dominant = file.Tensors.Where(t => t.Dimensions.Length > 1).GroupBy(t => t.Type)
            .OrderByDescending(g => g.Sum(t => t.ByteSize)).Select(g => g.Key).FirstOrDefault(GgmlType.F32);
        var weights = new WeightBudget(FormatId(dominant), total, embedding.ByteSize, output?.ByteSize ?? 0,
            output is null ? total : total - embedding.ByteSize, byType, KernelFor(dominant), ComputePrecision.Bf16,
            $"exact tensor bytes from the GGUF header of {name} ({file.Tensors.Count} tensors: {string.Join(", ", byType.Select(kv => $"{kv.Key} {kv.Value:N0} B"))})",
            embedding.Type.ToString());
        return (shape, weights);
    }

    /// <summary>The id a GGUF file's weights are reported under: <c>gguf-</c> and its dominant matrix type.</summary>
    public static string FormatId(GgmlType dominant) => "gguf-" + dominant.ToString().ToLowerInvariant();

    /// <summary>The decode kernel family of a GGUF type: 16/32-bit floats dense, 8-bit blocks, else 4-bit-class blocks.</summary>
    public static KernelClass KernelFor(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => KernelClass.Dense,
        GgmlType.Q8_0 or GgmlType.Q8_1 or GgmlType.Q8_K or GgmlType.I8 => KernelClass.EightBit,
        _ => KernelClass.FourBit,
    };
}
