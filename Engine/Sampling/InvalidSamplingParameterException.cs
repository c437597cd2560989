namespace Fathom.Engine.Sampling;

/// <summary>A sampling parameter is out of range. <see cref="ArgumentException.ParamName"/> is the OpenAI/vLLM parameter name (e.g. <c>top_p</c>).</summary>
public sealed class InvalidSamplingParameterException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidSamplingParameterException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidSamplingParameterException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public InvalidSamplingParameterException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for parameter <paramref name="paramName"/>.</summary>
    public InvalidSamplingParameterException(string message, string paramName)
        : base(message, paramName)
    {
        Reason = message;
    }

    /// <summary>The message without the parameter suffix <see cref="ArgumentException"/> appends.</summary>
    public string Reason { get; } = "";

    /// <inheritdoc/>
    public override string Message => Reason.Length > 0 ? Reason : base.Message;
}
