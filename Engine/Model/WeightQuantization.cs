using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Model;

/// <summary>Quantizing float weights as they load (<c>--quantize</c>), so a BF16/F16/F32 model is served in less memory.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "ggml's own type names.")]
public enum WeightQuantization
{
    /// <summary>Weights run as stored.</summary>
    None,

    /// <summary>Every float matrix whose rows are whole 32-element blocks becomes Q8_0 (8.5 bits per weight).</summary>
    Q8_0,

    /// <summary>Every float matrix whose rows are whole 256-element super-blocks becomes Q4_K (4.5 bits per weight); rows of whole 32-element blocks only, Q8_0.</summary>
    Q4_K,

    /// <summary>
    /// Every float matrix whose rows are a multiple of 4 elements becomes FP8 e4m3 with one f32 scale per row
    /// (<see cref="CheckpointTypes.Fp8Rows"/>, 8 bits per weight), as vLLM's <c>--quantization fp8</c>.
    /// </summary>
    Fp8,
}

/// <summary>Names and rules of <see cref="WeightQuantization"/>.</summary>
public static class WeightQuantizations
{
    /// <summary>The names <see cref="Parse"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["none", "q8_0", "q4_k", "fp8"];

    /// <summary>Parses a name (<c>q8_0</c>, <c>q4_k</c>, <c>fp8</c>, <c>none</c>; case-insensitive), or returns null.</summary>
    public static WeightQuantization? Parse(string? name) => name?.ToUpperInvariant() switch
    {
        "NONE" or "" => WeightQuantization.None,
        "Q8_0" => WeightQuantization.Q8_0,
        "Q4_K" => WeightQuantization.Q4_K,
        "FP8" => WeightQuantization.Fp8,
        _ => null,
    };

    /// <summary>The name of <paramref name="quantization"/>.</summary>
    public static string ToName(WeightQuantization quantization) => quantization switch
    {
        WeightQuantization.Q8_0 => "q8_0",
        WeightQuantization.Q4_K => "q4_k",
        WeightQuantization.Fp8 => "fp8",
        _ => "none",
    };

    /// <summary>The type a matrix of <paramref name="type"/> with rows of <paramref name="columns"/> is stored as, or null to keep it.</summary>
    internal static GgmlType? TargetFor(WeightQuantization quantization, GgmlType type, long columns)
    {
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
        {
            return null;
        }

        return quantization switch
        {
            WeightQuantization.Q4_K when columns % 256 == 0 => GgmlType.Q4_K,
            WeightQuantization.Q4_K or WeightQuantization.Q8_0 when columns % 32 == 0 => GgmlType.Q8_0,
            WeightQuantization.Fp8 when columns % 4 == 0 => CheckpointTypes.Fp8Rows, // 4: the device kernels read whole words
            _ => null,
        };
    }
}
