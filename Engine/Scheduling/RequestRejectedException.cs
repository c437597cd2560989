namespace Fathom.Engine.Scheduling;

/// <summary>A request that can never be served as given (empty or too long a prompt, duplicate id…). <see cref="ArgumentException.ParamName"/> names the API field at fault.</summary>
public sealed class RequestRejectedException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public RequestRejectedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RequestRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public RequestRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for API field <paramref name="paramName"/>.</summary>
    public RequestRejectedException(string message, string paramName)
        : base(message, paramName)
    {
        Reason = message;
    }

    /// <summary>The message without the parameter suffix <see cref="ArgumentException"/> appends.</summary>
    public string Reason { get; } = "";

    /// <inheritdoc/>
    public override string Message => Reason.Length > 0 ? Reason : base.Message;
}
