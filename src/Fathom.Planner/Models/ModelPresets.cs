namespace Fathom.Planner.Models;

/// <summary>Named model shapes, taken from each model's published <c>config.json</c>.</summary>
public static class ModelPresets
{
    private static readonly Dictionary<string, ModelShape> Shapes = new(StringComparer.OrdinalIgnoreCase)
    {
        // deepseek-ai/DeepSeek-R1-Distill-Llama-70B config.json (same shape as Llama-3.3-70B).
        ["deepseek-r1-distill-llama-70b"] = new("deepseek-r1-distill-llama-70b", 80, 8192, 64, 8, 128, 28672, 128256, false, false, 131072),
        ["llama-3.3-70b"] = new("llama-3.3-70b", 80, 8192, 64, 8, 128, 28672, 128256, false, false, 131072),
        ["llama-3.1-70b"] = new("llama-3.1-70b", 80, 8192, 64, 8, 128, 28672, 128256, false, false, 131072),
        ["llama-3.1-8b"] = new("llama-3.1-8b", 32, 4096, 32, 8, 128, 14336, 128256, false, false, 131072),
        // Qwen/Qwen2.5-32B config.json: q/k/v carry biases.
        ["qwen2.5-32b"] = new("qwen2.5-32b", 64, 5120, 40, 8, 128, 27648, 152064, false, true, 32768),
        // meta-llama/Llama-2-7b-hf and Llama-2-70b-hf: the models behind the published gpt-fast measurements.
        ["llama-2-7b"] = new("llama-2-7b", 32, 4096, 32, 32, 128, 11008, 32000, false, false, 4096),
        ["llama-2-70b"] = new("llama-2-70b", 80, 8192, 64, 8, 128, 28672, 32000, false, false, 4096),
    };

    /// <summary>The preset ids, in a stable order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Shapes.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Looks a preset up by id (case-insensitive).</summary>
    public static bool TryGet(string name, out ModelShape shape) => Shapes.TryGetValue(name, out shape!);

    /// <summary>Returns the preset, or throws a one-line error listing the known ones.</summary>
    /// <exception cref="PlannerInputException">No such preset.</exception>
    public static ModelShape Get(string name) =>
        TryGet(name, out var shape)
            ? shape
            : throw new PlannerInputException($"unknown model '{name}' (presets: {string.Join(", ", Names)}; or pass a config.json or .gguf path)");
}
