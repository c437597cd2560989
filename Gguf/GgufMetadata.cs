using System.Diagnostics.CodeAnalysis;

namespace Fathom.Gguf;

/// <summary>
/// The key/value metadata of a GGUF file, in file order. Typed getters throw <see cref="GgufFormatException"/>
/// naming the key when a required value is missing or has the wrong type.
/// </summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "Named after the GGUF section it models.")]
public sealed class GgufMetadata : IReadOnlyDictionary<string, GgufValue>
{
    private readonly Dictionary<string, GgufValue> _byKey;
    private readonly List<KeyValuePair<string, GgufValue>> _ordered;

    internal GgufMetadata(IEnumerable<KeyValuePair<string, GgufValue>> entries, string? filePath = null)
    {
        _byKey = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        _ordered = [];
        FilePath = filePath;
        foreach (var entry in entries)
        {
            if (!_byKey.TryAdd(entry.Key, entry.Value))
            {
                throw new GgufFormatException(filePath, entry.Value.Offset, $"duplicate metadata key '{entry.Key}'");
            }

            _ordered.Add(entry);
        }
    }

    /// <summary>The file the metadata came from, for error messages; null when built in memory.</summary>
    public string? FilePath { get; }

    /// <summary><c>general.architecture</c>, e.g. <c>llama</c>.</summary>
    public string Architecture => GetRequiredString("general.architecture");

    /// <inheritdoc/>
    public int Count => _ordered.Count;

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _ordered.Select(e => e.Key);

    /// <inheritdoc/>
    public IEnumerable<GgufValue> Values => _ordered.Select(e => e.Value);

    /// <inheritdoc/>
    public GgufValue this[string key] => _byKey.TryGetValue(key, out var v) ? v : throw Missing(key);

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _byKey.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out GgufValue value) => _byKey.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _ordered.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The string at <paramref name="key"/>, or null when absent.</summary>
    public string? GetString(string key) => Get(key, v => v.AsString());

    /// <summary>The string at <paramref name="key"/>; throws when absent.</summary>
    public string GetRequiredString(string key) => GetString(key) ?? throw Missing(key);

    /// <summary>An integer that fits UInt32; <paramref name="defaultValue"/> when absent, else throws.</summary>
    public uint GetUInt32(string key, uint? defaultValue = null) => Required(key, v => v.AsUInt32(), defaultValue);

    /// <summary>An integer that fits Int32; <paramref name="defaultValue"/> when absent, else throws.</summary>
    public int GetInt32(string key, int? defaultValue = null) => Required(key, v => v.AsInt32(), defaultValue);

    /// <summary>An integer that fits UInt64; <paramref name="defaultValue"/> when absent, else throws.</summary>
    public ulong GetUInt64(string key, ulong? defaultValue = null) => Required(key, v => v.AsUInt64(), defaultValue);

    /// <summary>An integer that fits Int64; <paramref name="defaultValue"/> when absent, else throws.</summary>
    public long GetInt64(string key, long? defaultValue = null) => Required(key, v => v.AsInt64(), defaultValue);

    /// <summary>A Float32 (or Float64, narrowed); <paramref name="defaultValue"/> when absent, else throws.</summary>
    public float GetFloat32(string key, float? defaultValue = null) => Required(key, v => v.AsFloat32(), defaultValue);

    /// <summary>A Bool; <paramref name="defaultValue"/> when absent, else throws.</summary>
    public bool GetBool(string key, bool? defaultValue = null) => Required(key, v => v.AsBool(), defaultValue);

    /// <summary>An array of strings (a copy), or null when absent.</summary>
    public string[]? GetStringArray(string key) => Get(key, v => v.AsStringArray());

    /// <summary>An array of Float32 (a copy), or null when absent.</summary>
    public float[]? GetFloat32Array(string key) => Get(key, v => v.AsFloat32Array());

    /// <summary>An array of integers as Int32, or null when absent.</summary>
    public int[]? GetInt32Array(string key) => Get(key, v => v.AsInt32Array());

    private T? Get<T>(string key, Func<GgufValue, T> convert)
        where T : class
    {
        if (!_byKey.TryGetValue(key, out var value))
        {
            return null;
        }

        try
        {
            return convert(value);
        }
        catch (InvalidCastException e)
        {
            throw new GgufFormatException(FilePath, value.Offset, $"metadata key '{key}': {e.Message}", e);
        }
    }

    private T Required<T>(string key, Func<GgufValue, T> convert, T? defaultValue)
        where T : struct
    {
        if (!_byKey.TryGetValue(key, out var value))
        {
            return defaultValue ?? throw Missing(key);
        }

        try
        {
            return convert(value);
        }
        catch (InvalidCastException e)
        {
            throw new GgufFormatException(FilePath, value.Offset, $"metadata key '{key}': {e.Message}", e);
        }
    }

    private GgufFormatException Missing(string key) => new(FilePath, -1, $"required metadata key '{key}' is missing");
}
