namespace Fathom.Engine.Templates;

/// <summary>
/// A chat template crossed one of its <see cref="ChatTemplateLimits"/> while being parsed or rendered: it looped,
/// recursed or grew a value beyond what any real template needs. <see cref="Limit"/> names the limit.
/// </summary>
public sealed class ChatTemplateLimitException : ChatTemplateException
{
    /// <summary>Creates an exception with no message.</summary>
    public ChatTemplateLimitException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public ChatTemplateLimitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ChatTemplateLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for the limit named <paramref name="limit"/>.</summary>
    /// <param name="limit">The limit's name: <c>step</c>, <c>output</c>, <c>string length</c>, <c>list length</c> or <c>depth</c>.</param>
    /// <param name="message">The message, which names the limit and its value.</param>
    public ChatTemplateLimitException(string limit, string message)
        : base(message)
    {
        Limit = limit;
    }

    /// <summary>The limit crossed: <c>step</c>, <c>output</c>, <c>string length</c>, <c>list length</c> or <c>depth</c>.</summary>
    public string Limit { get; } = "";
}
