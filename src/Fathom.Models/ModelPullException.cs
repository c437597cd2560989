namespace Fathom.Models;

/// <summary>
/// Why a model could not be pulled or resolved. Each subclass is one cause a user can act on; the message is one
/// line that says what to do.
/// </summary>
public class ModelPullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelPullException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public ModelPullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public ModelPullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The repository, file or quantization tag does not exist (the hub answered 404, or 401 for an unknown repository).</summary>
public sealed class ModelNotFoundException : ModelPullException
{
    /// <summary>Creates the exception.</summary>
    public ModelNotFoundException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public ModelNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public ModelNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The repository is gated or private and no token (or one without access) was sent: 401/403.</summary>
public sealed class GatedModelException : ModelPullException
{
    /// <summary>Creates the exception.</summary>
    public GatedModelException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public GatedModelException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public GatedModelException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The store's disk has less free space than the pull needs; checked before any byte is downloaded.</summary>
public sealed class InsufficientDiskSpaceException : ModelPullException
{
    /// <summary>Creates the exception.</summary>
    public InsufficientDiskSpaceException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public InsufficientDiskSpaceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public InsufficientDiskSpaceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Bytes the pull still has to write.</summary>
    public long BytesNeeded { get; init; }

    /// <summary>Bytes free where the store is.</summary>
    public long BytesFree { get; init; }
}

/// <summary>A downloaded file's hash differs from the one the hub publishes; the file was not marked complete.</summary>
public sealed class ChecksumMismatchException : ModelPullException
{
    /// <summary>Creates the exception.</summary>
    public ChecksumMismatchException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public ChecksumMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public ChecksumMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The network failed more often than the retries allow (or the server kept answering 5xx/429); the partial download is kept for the next pull.</summary>
public sealed class ModelDownloadException : ModelPullException
{
    /// <summary>Creates the exception.</summary>
    public ModelDownloadException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public ModelDownloadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public ModelDownloadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
