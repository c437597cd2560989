using Fathom.Gguf;

namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>
/// A checkpoint's linear layer repacked for the engine: rows of <see cref="Type"/> (one of the
/// <see cref="CheckpointTypes"/>) in a pinned array, which must stay referenced while a matrix points into it.
/// </summary>
/// <param name="Type">The engine layout.</param>
/// <param name="Data">The rows, one per output feature (pinned: it never moves).</param>
/// <param name="ColumnOrder">For GPTQ <c>desc_act</c>: stored column i is input <c>ColumnOrder[i]</c>; null when in order.</param>
public sealed record RepackedWeight(GgmlType Type, byte[] Data, int[]? ColumnOrder);
