using Fathom.Planner.Formats;
using Fathom.Safetensors;

namespace Fathom.Planner.Models;

/// <summary>
/// Reads a Hugging Face model directory's safetensors headers only (no tensor data is touched): the exact bytes of
/// every tensor, by dtype, so a BF16 or FP8 checkpoint is counted as stored, scales and all.
/// </summary>
public static class SafetensorsModelReader
{
    /// <summary>The exact weight bytes of the checkpoint in <paramref name="directory"/>, or null when it has none.</summary>
    /// <exception cref="PlannerInputException">A safetensors file or its index is malformed.</exception>
    public static WeightBudget? Read(string directory, ModelShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (!SafetensorsCheckpoint.Exists(directory))
        {
            return null;
        }

        try
        {
            using var checkpoint = SafetensorsCheckpoint.Open(directory);
            return FromCheckpoint(checkpoint, shape);
        }
        catch (SafetensorsFormatException e)
        {
            throw new PlannerInputException($"cannot plan for '{directory}': {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new PlannerInputException($"cannot read '{directory}': {e.Message}", e);
        }
    }

    /// <summary>The exact weight bytes of an open checkpoint.</summary>
    public static WeightBudget FromCheckpoint(SafetensorsCheckpoint checkpoint, ModelShape shape)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(shape);
        var byType = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var t in checkpoint.Tensors)
        {
            byType[t.DType.ToString()] = byType.GetValueOrDefault(t.DType.ToString()) + t.ByteSize;
        }

        var total = byType.Values.Sum();
        var embedding = checkpoint.FindTensor("model.embed_tokens.weight");
        var output = shape.TiedEmbeddings ? null : checkpoint.FindTensor("lm_head.weight");
        var dominant = checkpoint.Tensors.Where(t => t.Shape.Length > 1).GroupBy(t => t.DType)
            .OrderByDescending(g => g.Sum(t => t.ByteSize)).Select(g => g.Key).FirstOrDefault(SafetensorsDType.BF16);
        var (format, kernel) = dominant switch
        {
            SafetensorsDType.F32 => ("f32", KernelClass.Dense),
            SafetensorsDType.F16 => ("fp16", KernelClass.Dense),
            SafetensorsDType.BF16 => ("bf16", KernelClass.Dense),
            SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2 => ("fp8", KernelClass.EightBit),
            _ => ("safetensors-" + dominant.ToString().ToLowerInvariant(), KernelClass.FourBit),
        };
        var embeddingBytes = embedding?.ByteSize ?? 0;
        var files = checkpoint.FilePaths.Count;
        return new WeightBudget(format, total, embeddingBytes, output?.ByteSize ?? 0,
            output is null ? total : total - embeddingBytes, byType, kernel, ComputePrecision.Bf16,
            $"exact tensor bytes from the safetensors headers of {Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkpoint.Directory)))} ({checkpoint.Tensors.Count} tensors in {files} file{(files == 1 ? "" : "s")}: {string.Join(", ", byType.Select(kv => $"{kv.Key} {kv.Value:N0} B"))})",
            embedding?.DType.ToString());
    }
}
