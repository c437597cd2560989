namespace Fathom.Planner.Formats;

/// <summary>
/// The family of decode kernel a weight format runs on. Each family streams weights at its own fraction of
/// peak memory bandwidth (dequantization costs instructions), so efficiency is looked up per family.
/// </summary>
public enum KernelClass
{
    /// <summary>16-bit or fp8 weights read straight into tensor-core or GEMV kernels.</summary>
    Dense,

    /// <summary>8-bit integer weights dequantized on the fly (int8 per-channel, GGUF q8_0).</summary>
    EightBit,

    /// <summary>4-bit grouped or block weights dequantized on the fly (GPTQ, AWQ, q4_0, q4_k_m).</summary>
    FourBit,
}
