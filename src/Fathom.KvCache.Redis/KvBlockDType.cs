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

    /// <summary>GGML Q8_0 blocks (32 int8 with one f16 scale).</summary>
#pragma warning disable CA1707 // GGML's name for the type.
    Q8_0 = 8,
#pragma warning restore CA1707
}
