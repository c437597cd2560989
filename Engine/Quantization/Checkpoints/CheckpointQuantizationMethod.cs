namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>The published quantized-checkpoint formats Fathom reads (<c>quantization_config.quant_method</c>).</summary>
public enum CheckpointQuantizationMethod
{
    /// <summary><c>compressed-tensors</c> with <c>format: float-quantized</c>: FP8 e4m3 weights, per-tensor or per-channel scale.</summary>
    CompressedTensorsFp8,

    /// <summary><c>fbgemm_fp8</c>: FP8 e4m3 weights with a per-channel scale.</summary>
    FbgemmFp8,

    /// <summary><c>fp8</c> (vLLM/transformers serialized FP8, per-tensor <c>weight_scale</c>; block-wise scales are not supported).</summary>
    Fp8,

    /// <summary><c>awq</c>, GEMM packing (AutoAWQ): 4-bit with zero points.</summary>
    Awq,

    /// <summary><c>gptq</c> (AutoGPTQ/GPTQModel): 4-bit, symmetric or not, optionally <c>desc_act</c> with <c>g_idx</c>.</summary>
    Gptq,
}
