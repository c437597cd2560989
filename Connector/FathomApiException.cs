using System.Net;

namespace Fathom.Connector;

/// <summary>
/// A Fathom (or other OpenAI-compatible) server rejected a request or failed while streaming its answer.
/// <see cref="Exception.Message"/> carries the server's own <c>error.message</c>.
/// </summary>
public sealed class FathomApiException : HttpRequestException
{
    /// <summary>Creates the exception from the parts of an OpenAI-style error body.</summary>
    /// <param name="message">The server's <c>error.message</c> (or a description when the body had none).</param>
    /// <param name="statusCode">The HTTP status, or <see langword="null"/> for an error event inside a stream.</param>
    /// <param name="errorType">The server's <c>error.type</c>, e.g. <c>invalid_request_error</c>.</param>
    /// <param name="errorCode">The server's <c>error.code</c> as text.</param>
    /// <param name="param">The server's <c>error.param</c>: the offending request field.</param>
    /// <param name="retryAfter">The delay the server asked for in <c>Retry-After</c> (429/503).</param>
    public FathomApiException(
        string message,
        HttpStatusCode? statusCode = null,
        string? errorType = null,
        string? errorCode = null,
        string? param = null,
        TimeSpan? retryAfter = null)
        : base(message, inner: null, statusCode)
    {
        ErrorType = errorType;
        ErrorCode = errorCode;
        Param = param;
        RetryAfter = retryAfter;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What went wrong.</param>
    public FathomApiException(string message)
        : this(message, statusCode: null)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public FathomApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public FathomApiException()
        : this("The Fathom server returned an error.")
    {
    }

    /// <summary>The server's <c>error.type</c>, e.g. <c>invalid_request_error</c>.</summary>
    public string? ErrorType { get; }

    /// <summary>The server's <c>error.code</c> as text (OpenAI sends a string, vLLM the status number).</summary>
    public string? ErrorCode { get; }

    /// <summary>The server's <c>error.param</c>: the request field it objected to.</summary>
    public string? Param { get; }

    /// <summary>How long the server asked the client to wait (<c>Retry-After</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
