namespace Fathom.Engine.Model;

/// <summary>
/// A model file that parses as GGUF but does not describe a model Fathom can run: an unsupported architecture,
/// inconsistent hyper-parameters, or tensors whose shapes or types do not match them.
/// </summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/> with <paramref name="reason"/>.</summary>
    public ModelLoadException(string? filePath, string reason)
        : base(filePath is null ? reason : $"{filePath}: {reason}")
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>Creates the exception for <paramref name="filePath"/> with <paramref name="reason"/>, caused by <paramref name="innerException"/>.</summary>
    public ModelLoadException(string? filePath, string reason, Exception? innerException)
        : base(filePath is null ? reason : $"{filePath}: {reason}", innerException)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public ModelLoadException()
        : this(null, "the model cannot be loaded")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public ModelLoadException(string message)
        : this(null, message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public ModelLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>The model file, when known.</summary>
    public string? FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Reason { get; } = "";
}
