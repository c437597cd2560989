namespace Fathom.Engine.Serving;

/// <summary>OpenAI's <c>tool_choice</c>: whether the answer may, must or must not call the offered tools.</summary>
/// <param name="Mode">Which choice.</param>
/// <param name="FunctionName">The function that must be called (for <see cref="ChatToolChoiceMode.Function"/>).</param>
public sealed record ChatToolChoice(ChatToolChoiceMode Mode, string? FunctionName = null)
{
    /// <summary>The model decides (<c>auto</c>, the default when tools are offered).</summary>
    public static ChatToolChoice Auto { get; } = new(ChatToolChoiceMode.Auto);

    /// <summary>No tool calls: the answer is not read for calls (<c>none</c>).</summary>
    public static ChatToolChoice None { get; } = new(ChatToolChoiceMode.None);

    /// <summary>At least one call, enforced by constraining the output to the template family's call syntax (<c>required</c>).</summary>
    public static ChatToolChoice Required { get; } = new(ChatToolChoiceMode.Required);

    /// <summary>A call of <paramref name="name"/>, enforced (<c>{"type":"function","function":{"name":…}}</c>).</summary>
    public static ChatToolChoice Function(string name) => new(ChatToolChoiceMode.Function, name);
}

/// <summary>The kinds of <see cref="ChatToolChoice"/>.</summary>
public enum ChatToolChoiceMode
{
    /// <summary>The model decides.</summary>
    Auto,

    /// <summary>No calls.</summary>
    None,

    /// <summary>At least one call of any offered tool.</summary>
    Required,

    /// <summary>A call of one named tool.</summary>
    Function,
}
