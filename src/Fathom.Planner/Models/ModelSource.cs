using Fathom.Planner.Formats;

namespace Fathom.Planner.Models;

/// <summary>Turns what a user typed after <c>--model</c> into a shape, and for a GGUF file or a model directory with safetensors its exact weight bytes.</summary>
public static class ModelSource
{
    /// <summary>
    /// A <c>.gguf</c> path reads the file's header; a <c>.json</c> path or a folder holding <c>config.json</c>
    /// reads the HF config (and a folder's safetensors headers, when it has them); anything else is a preset name.
    /// </summary>
    /// <exception cref="PlannerInputException">Unknown preset, unreadable file or unsupported architecture.</exception>
    public static (ModelShape Shape, WeightBudget? FileWeights) Resolve(string model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var gguf = GgufModelReader.Read(model);
            return (gguf.Shape, gguf.Weights);
        }

        if (model.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return (HfConfigReader.Read(model), null);
        }

        if (Directory.Exists(model) && File.Exists(Path.Combine(model, "config.json")))
        {
            // A model directory with its weights gets their exact bytes, as a GGUF file does; config.json alone, an estimate.
            var shape = HfConfigReader.Read(Path.Combine(model, "config.json"));
            return (shape, SafetensorsModelReader.Read(model, shape));
        }

        return (ModelPresets.Get(model), null);
    }
}
