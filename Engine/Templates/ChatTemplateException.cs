namespace Fathom.Engine.Templates;

/// <summary>
/// A chat template could not be rendered: the template called <c>raise_exception(message)</c>
/// (<see cref="RaisedByTemplate"/> is then true, and <see cref="Exception.Message"/> is the template's own text),
/// or an expression failed the way Python's jinja2 would fail (an undefined value used, a type error).
/// Both are caused by the request's messages or by the template, never by the engine, so a service maps them to 400.
/// </summary>
public class ChatTemplateException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public ChatTemplateException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public ChatTemplateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ChatTemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception, noting whether the template itself raised it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="raisedByTemplate">True when the template called <c>raise_exception</c>.</param>
    public ChatTemplateException(string message, bool raisedByTemplate)
        : base(message)
    {
        RaisedByTemplate = raisedByTemplate;
    }

    /// <summary>True when the template called <c>raise_exception(message)</c> (e.g. "roles must alternate").</summary>
    public bool RaisedByTemplate { get; }
}
