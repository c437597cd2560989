namespace Fathom.OpenAi.Protocol.Requests;

/// <summary>
/// A request field that is missing, of the wrong type, or out of what the protocol allows: answered as a 400
/// <c>invalid_request_error</c> whose <c>param</c> names the field, by the API and the engine alike.
/// </summary>
public sealed class RequestFieldException : Exception
{
    /// <summary>Creates the error for <paramref name="param"/>.</summary>
    public RequestFieldException(string message, string? param, string? code = null)
        : base(message)
    {
        Param = param;
        Code = code;
    }

    /// <summary>Creates the error with no field named.</summary>
    public RequestFieldException()
    {
    }

    /// <summary>Creates the error with no field named.</summary>
    public RequestFieldException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with no field named, wrapping <paramref name="innerException"/>.</summary>
    public RequestFieldException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The field at fault (OpenAI's <c>param</c>); null when the body as a whole is.</summary>
    public string? Param { get; }

    /// <summary>OpenAI's <c>code</c>, e.g. <c>request_limit_exceeded</c>; null for a plain invalid field.</summary>
    public string? Code { get; }

    /// <summary>The error as OpenAI's JSON body.</summary>
    public ErrorResponse ToErrorResponse() => ErrorResponse.Create(Message, ErrorTypes.InvalidRequest, Param, Code);
}
