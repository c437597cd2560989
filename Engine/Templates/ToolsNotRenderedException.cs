namespace Fathom.Engine.Templates;

/// <summary>
/// A request offers tools, but the model's chat template never reads <c>tools</c> and Fathom ships no tool-capable
/// template for its family: the tools would be dropped silently, so the request is refused. The remedy is a template
/// that renders tools (the engine service's <c>--chat-template</c>).
/// </summary>
public sealed class ToolsNotRenderedException : ChatTemplateException
{
    /// <summary>Creates the exception with the standard message.</summary>
    public ToolsNotRenderedException()
        : base("The model's chat template does not render tools and Fathom has no tool-capable template for its family; "
            + "start the engine with --chat-template FILE naming a template that renders 'tools'.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public ToolsNotRenderedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ToolsNotRenderedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
