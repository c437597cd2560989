namespace Fathom.Engine.Scheduling;

/// <summary>
/// One request failed on its own: a fault while sampling, detokenizing or matching stop strings for one of its
/// sequences, a forward step that failed twice, or a shutdown that outlasted its drain. Other requests go on.
/// </summary>
public sealed class SequenceFailedException : Exception
{
    /// <summary>A failure of one request.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="causedByInput">Whether the request's own input (e.g. its sampling parameters) led to it: a client error, not the server's.</param>
    /// <param name="innerException">The fault itself, if any.</param>
    public SequenceFailedException(string message, bool causedByInput, Exception? innerException = null)
        : base(message, innerException)
    {
        CausedByInput = causedByInput;
    }

    /// <summary>An engine failure (not the client's).</summary>
    public SequenceFailedException()
        : this("The request failed in the engine.", causedByInput: false)
    {
    }

    /// <summary>An engine failure (not the client's).</summary>
    public SequenceFailedException(string message)
        : this(message, causedByInput: false)
    {
    }

    /// <summary>An engine failure (not the client's).</summary>
    public SequenceFailedException(string message, Exception innerException)
        : this(message, causedByInput: false, innerException)
    {
    }

    /// <summary>Whether the request's own input led to the failure (answer 400 rather than 500).</summary>
    public bool CausedByInput { get; }
}
