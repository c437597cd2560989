namespace Fathom.KvCache.Redis;

/// <summary>Element type of a stored K/V payload (one byte in the value header).</summary>
public enum KvBlockDType : byte
{
    /// <summary>32-bit IEEE float.</summary>
    F32 = 0,

    /// <summary>16-bit IEEE float.</summary>
    F16 = 1,

    /// <summary>bfloat16.</summary>
    BF16 = 2,

    /// <summary>FP8 <c>e4m3fn</c> bytes with a scale of 1.0 (an engine's <c>--kv-cache-dtype fp8</c> cache, byte for byte).</summary>
    Fp8E4M3 = 3,

    /// <summary>GGML Q8_0 blocks (32 int8 with one f16 scale).</summary>
#pragma warning disable CA1707 // GGML's name for the type.
    Q8_0 = 8,
#pragma warning restore CA1707
}
