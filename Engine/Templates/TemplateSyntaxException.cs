namespace Fathom.Engine.Templates;

/// <summary>A chat template's text is not valid Jinja (or uses a construct this interpreter does not support).</summary>
public sealed class TemplateSyntaxException : ChatTemplateException
{
    /// <summary>Creates an exception with no message.</summary>
    public TemplateSyntaxException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public TemplateSyntaxException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public TemplateSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception that names the line of the template where the problem is.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="line">The 1-based line in the template text.</param>
    public TemplateSyntaxException(string message, int line)
        : base($"{message} (template line {line})")
    {
        Line = line;
    }

    /// <summary>The 1-based line of the template where the problem was found, or 0 if unknown.</summary>
    public int Line { get; }
}
