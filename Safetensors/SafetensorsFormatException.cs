namespace Fathom.Safetensors;

/// <summary>
/// A Hugging Face checkpoint file (a <c>.safetensors</c> file, its shard index or <c>config.json</c>) is malformed,
/// missing, or inconsistent; names the file, the field and the reason.
/// </summary>
public sealed class SafetensorsFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="field"/> of <paramref name="filePath"/>.</summary>
    public SafetensorsFormatException(string? filePath, string field, string reason, Exception? innerException = null)
        : base(Format(filePath, field, reason), innerException)
    {
        FilePath = filePath;
        Field = field;
        Reason = reason;
    }

    /// <summary>Standard constructor; prefer the one that names the file and field.</summary>
    public SafetensorsFormatException()
        : this(null, "", "invalid safetensors data")
    {
    }

    /// <summary>Standard constructor; prefer the one that names the file and field.</summary>
    public SafetensorsFormatException(string reason)
        : this(null, "", reason)
    {
    }

    /// <summary>Standard constructor; prefer the one that names the file and field.</summary>
    public SafetensorsFormatException(string reason, Exception? innerException)
        : this(null, "", reason, innerException)
    {
    }

    /// <summary>The file, or null when the data did not come from a file.</summary>
    public string? FilePath { get; }

    /// <summary>
    /// The part of the file that is wrong: <c>header length</c>, <c>header</c>, <c>tensor 'NAME'.data_offsets</c>,
    /// <c>weight_map['NAME']</c>, <c>num_key_value_heads</c>...; empty when the whole file is at fault.
    /// </summary>
    public string Field { get; }

    /// <summary>What is wrong, without the file and field.</summary>
    public string Reason { get; }

    private static string Format(string? filePath, string field, string reason)
    {
        var where = filePath is null ? "safetensors data" : $"'{filePath}'";
        return field.Length > 0 ? $"{where}, {field}: {reason}" : $"{where}: {reason}";
    }
}
