namespace Fathom.Planner.Formats;

/// <summary>The tensor-core precision prefill runs at for a weight format.</summary>
public enum ComputePrecision
{
    /// <summary>BF16/FP16 matrix math (weight-only quantized formats dequantize to it).</summary>
    Bf16,

    /// <summary>FP8 matrix math (where the GPU has it; otherwise BF16).</summary>
    Fp8,
}
