namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>The requested compute backend cannot run on this machine (for example <c>cuda</c> with no CUDA device).</summary>
public sealed class BackendUnavailableException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public BackendUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line message and the underlying failure.</summary>
    public BackendUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public BackendUnavailableException()
        : base("the requested compute backend is not available")
    {
    }
}
