using Fathom.Planner.Formats;

namespace Fathom.Planner.Models;

/// <summary>Reads a GGUF file's header: the model's shape from its metadata and the exact bytes of every tensor.</summary>
public static class GgufModelReader
{
    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="PlannerInputException">The file cannot be read as a Llama-family GGUF.</exception>
    public static (ModelShape Shape, WeightBudget Weights) Read(string path) =>
        throw new PlannerInputException($"cannot read '{path}': GGUF input needs the engine's GGUF reader, which this build lacks");
}
