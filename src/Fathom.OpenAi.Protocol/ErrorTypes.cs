namespace Fathom.OpenAi.Protocol;

/// <summary>The <c>type</c> values of <see cref="ErrorDetail"/> that Fathom answers.</summary>
public static class ErrorTypes
{
    /// <summary>The request is wrong (400, 401, 404, 413).</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>Too many requests or tokens for the key or the engine (429).</summary>
    public const string RateLimitExceeded = "rate_limit_exceeded";

    /// <summary>OpenAI's type for request and token rate limits of an API key (429).</summary>
    public const string Requests = "requests";

    /// <summary>The model is not loaded yet or failed to load (503).</summary>
    public const string ServiceUnavailable = "service_unavailable";

    /// <summary>The server failed, e.g. a replica died mid-stream.</summary>
    public const string Server = "server_error";
}
