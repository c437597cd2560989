namespace Fathom.Engine.KvCache;

/// <summary>The element type the KV cache holds keys and values in. Command-line and configuration names: see <see cref="KvCacheDataTypes"/>.</summary>
public enum KvCacheDataType
{
    /// <summary>The backend's default: f16 on the CPU backend (half the memory, as llama.cpp), f32 on the reference backend. Name: <c>auto</c>.</summary>
    Auto,

    /// <summary>IEEE half precision: 2 bytes an element. Name: <c>f16</c>.</summary>
    F16,

    /// <summary>IEEE single precision: 4 bytes an element, exactly what the forward pass computed. Name: <c>f32</c>.</summary>
    F32,

    /// <summary>
    /// FP8 <c>e4m3fn</c> (<see cref="Quantization.Fp8E4M3"/>): 1 byte an element, a quarter of f32, half of f16. Stored
    /// with a fixed scale of 1.0 (vLLM's default when a checkpoint carries no k/v scales): each value is rounded to the
    /// nearest e4m3 value, ties to even, and saturated at ±448, so finite input never becomes NaN. Name: <c>fp8</c>
    /// (also <c>fp8_e4m3</c>, vLLM's spelling).
    /// </summary>
    Fp8,
}

/// <summary>The names and sizes of <see cref="KvCacheDataType"/> values.</summary>
public static class KvCacheDataTypes
{
    private static readonly (string Name, KvCacheDataType Type)[] Names =
    [
        ("auto", KvCacheDataType.Auto),
        ("f16", KvCacheDataType.F16),
        ("f32", KvCacheDataType.F32),
        ("fp8", KvCacheDataType.Fp8),
    ];

    // Accepted on input but never printed: vLLM's explicit name for the same format.
    private const string Fp8E4M3Alias = "fp8_e4m3";

    /// <summary>Every accepted name, in display order.</summary>
    public static IReadOnlyList<string> AllNames { get; } = [.. Names.Select(n => n.Name)];

    /// <summary>The name of <paramref name="type"/> (<c>f16</c>…).</summary>
    public static string ToName(KvCacheDataType type)
    {
        foreach (var (name, t) in Names)
        {
            if (t == type)
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(type), type, "unknown KV cache data type");
    }

    /// <summary>Parses a name (case-insensitive): <c>auto</c>, <c>f16</c>, <c>f32</c> or <c>fp8</c> (alias <c>fp8_e4m3</c>).</summary>
    public static bool TryParse(string? text, out KvCacheDataType type)
    {
        if (string.Equals(text, Fp8E4M3Alias, StringComparison.OrdinalIgnoreCase))
        {
            type = KvCacheDataType.Fp8;
            return true;
        }

        foreach (var (name, t) in Names)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                type = t;
                return true;
            }
        }

        type = default;
        return false;
    }

    /// <summary>Bytes one element of <paramref name="type"/> takes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="KvCacheDataType.Auto"/>, which has no size until resolved.</exception>
    public static int SizeOf(KvCacheDataType type) => type switch
    {
        KvCacheDataType.F16 => 2,
        KvCacheDataType.F32 => 4,
        KvCacheDataType.Fp8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "resolve the KV cache data type before sizing it"),
    };
}
