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
}

/// <summary>The names and sizes of <see cref="KvCacheDataType"/> values.</summary>
public static class KvCacheDataTypes
{
    private static readonly (string Name, KvCacheDataType Type)[] Names =
    [
        ("auto", KvCacheDataType.Auto),
        ("f16", KvCacheDataType.F16),
        ("f32", KvCacheDataType.F32),
    ];

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

    /// <summary>Parses a name (case-insensitive): <c>auto</c>, <c>f16</c> or <c>f32</c>.</summary>
    public static bool TryParse(string? text, out KvCacheDataType type)
    {
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
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "resolve the KV cache data type before sizing it"),
    };
}
