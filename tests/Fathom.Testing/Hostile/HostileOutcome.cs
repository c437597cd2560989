namespace Fathom.Testing.Hostile;

/// <summary>How one request ended, as a client sees it.</summary>
public enum OutcomeKind
{
    /// <summary>A 2xx whose body was read to its end.</summary>
    Success,

    /// <summary>A 4xx.</summary>
    ClientError,

    /// <summary>A 5xx.</summary>
    ServerError,

    /// <summary>The connection failed: reset, closed early, refused.</summary>
    Connection,

    /// <summary>No complete answer within the client's timeout.</summary>
    Timeout,
}

/// <summary>The answer to one request: status, whether an error was OpenAI-shaped, and the error's <c>param</c>.</summary>
/// <param name="Kind">The class of the outcome.</param>
/// <param name="Status">The HTTP status, 0 when none arrived.</param>
/// <param name="ErrorJson">For a 4xx/5xx: whether the body was <c>{"error":{"message":…}}</c>.</param>
/// <param name="Param">The error's <c>param</c>, when it had one.</param>
/// <param name="SseError">For a 200 stream: whether it carried an error event instead of ending with <c>[DONE]</c>.</param>
/// <param name="Detail">The start of the body or the exception, for failure messages.</param>
/// <param name="Elapsed">Time from sending to the end of the answer.</param>
public sealed record HostileOutcome(OutcomeKind Kind, int Status, bool ErrorJson, string? Param, bool SseError, string Detail, TimeSpan Elapsed);
