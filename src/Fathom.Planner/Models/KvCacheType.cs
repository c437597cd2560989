namespace Fathom.Planner.Models;

/// <summary>The element type of the KV cache: f32 (4 bytes), f16/bf16 (2 bytes), fp8 (1 byte) or GGUF q8_0 (34 bytes per 32).</summary>
public sealed record KvCacheType(string Id, int BlockElements, int BlockBytes)
{
    /// <summary>32-bit floats (Fathom's CPU engine keeps its cache in f32).</summary>
    public static KvCacheType F32 { get; } = new("f32", 1, 4);

    /// <summary>16-bit floats (f16 or bf16).</summary>
    public static KvCacheType F16 { get; } = new("f16", 1, 2);

    /// <summary>8-bit floats with a per-tensor scale (vLLM/TensorRT-LLM fp8 KV).</summary>
    public static KvCacheType Fp8 { get; } = new("fp8", 1, 1);

    /// <summary>llama.cpp's q8_0 cache: blocks of 32 int8 values with one f16 scale.</summary>
    public static KvCacheType Q80 { get; } = new("q8_0", 32, 34);

    /// <summary>All supported cache types.</summary>
    public static IReadOnlyList<KvCacheType> All { get; } = [F32, F16, Fp8, Q80];

    /// <summary>Bytes for <paramref name="elements"/> values, which must fill whole blocks.</summary>
    public long Bytes(long elements) => elements / BlockElements * BlockBytes + (elements % BlockElements == 0 ? 0 : BlockBytes);

    /// <summary>Finds a cache type by id (f16, bf16, fp16, fp8, q8_0).</summary>
    /// <exception cref="PlannerInputException">The id is not known.</exception>
    public static KvCacheType Parse(string id) => id?.Trim().ToLowerInvariant() switch
    {
        "f32" or "fp32" => F32,
        "f16" or "fp16" or "bf16" => F16,
        "fp8" or "f8" or "fp8_e4m3" => Fp8,
        "q8_0" or "q8" => Q80,
        _ => throw new PlannerInputException($"unknown KV cache type '{id}' (known: f32, f16, fp8, q8_0)"),
    };
}
