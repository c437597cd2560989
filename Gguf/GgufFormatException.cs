namespace Fathom.Gguf;

/// <summary>A GGUF file is malformed or uses a feature Fathom does not support; names the file, the byte offset and the reason.</summary>
public sealed class GgufFormatException : Exception
{
    /// <summary>Creates the exception for a problem found at <paramref name="offset"/> of <paramref name="filePath"/>.</summary>
    public GgufFormatException(string? filePath, long offset, string reason, Exception? innerException = null)
        : base(Format(filePath, offset, reason), innerException)
    {
        FilePath = filePath;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>Creates the exception with a reason only (no file, offset unknown).</summary>
    public GgufFormatException(string reason)
        : this(null, -1, reason)
    {
    }

    /// <summary>Standard constructor; prefer the one that names file and offset.</summary>
    public GgufFormatException()
        : this(null, -1, "invalid GGUF data")
    {
    }

    /// <summary>Standard constructor; prefer the one that names file and offset.</summary>
    public GgufFormatException(string reason, Exception? innerException)
        : this(null, -1, reason, innerException)
    {
    }

    /// <summary>The file, or null when the data did not come from a file.</summary>
    public string? FilePath { get; }

    /// <summary>Byte offset in the file where the problem was found; -1 when it has none.</summary>
    public long Offset { get; }

    /// <summary>What is wrong, without the file and offset.</summary>
    public string Reason { get; }

    private static string Format(string? filePath, long offset, string reason)
    {
        var where = filePath is null ? "GGUF data" : $"GGUF file '{filePath}'";
        return offset >= 0 ? $"{where}, offset {offset}: {reason}" : $"{where}: {reason}";
    }
}
