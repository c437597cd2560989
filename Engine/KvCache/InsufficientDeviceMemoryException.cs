namespace Fathom.Engine.KvCache;

/// <summary>
/// The device has too little free memory for one KV block under <c>--gpu-memory-utilization</c>. A
/// <see cref="NotSupportedException"/>, so callers that report those as one line report this too.
/// </summary>
public sealed class InsufficientDeviceMemoryException : NotSupportedException
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public InsufficientDeviceMemoryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line message and the underlying failure.</summary>
    public InsufficientDeviceMemoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public InsufficientDeviceMemoryException()
        : base("the device has no memory left for the KV cache")
    {
    }
}
