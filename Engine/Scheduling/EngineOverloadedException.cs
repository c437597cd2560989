namespace Fathom.Engine.Scheduling;

/// <summary>The waiting queue is full: the request was not queued; the client should retry after <see cref="RetryAfter"/>.</summary>
public sealed class EngineOverloadedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineOverloadedException()
        : this("The engine's request queue is full.", TimeSpan.FromSeconds(1))
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public EngineOverloadedException(string message)
        : this(message, TimeSpan.FromSeconds(1))
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public EngineOverloadedException(string message, Exception innerException)
        : base(message, innerException)
    {
        RetryAfter = TimeSpan.FromSeconds(1);
    }

    /// <summary>Creates the exception with a retry hint.</summary>
    public EngineOverloadedException(string message, TimeSpan retryAfter)
        : base(message)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>How long the client should wait before retrying.</summary>
    public TimeSpan RetryAfter { get; }
}
