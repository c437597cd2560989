namespace Fathom.Engine.Templates;

/// <summary>
/// One message of a chat, as OpenAI's API carries it. The template sees it as a dict with <c>role</c> and
/// <c>content</c> (None when <see cref="Content"/> is null), plus <c>reasoning_content</c>, <c>tool_calls</c>,
/// <c>tool_call_id</c> and <c>name</c> only when they are set — templates test <c>'tool_calls' in message</c>.
/// </summary>
/// <param name="Role">system, user, assistant, tool (or ipython), as the template expects.</param>
/// <param name="Content">The text; null for an assistant message that only calls tools.</param>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>An assistant's reasoning (DeepSeek-R1's <c>reasoning_content</c>), if the client sent it back.</summary>
    public string? ReasoningContent { get; init; }

    /// <summary>The tool calls an assistant message made.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>For a tool message: the id of the call it answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>The participant's or tool's name, if given.</summary>
    public string? Name { get; init; }
}

/// <summary>A function call made by the assistant, in OpenAI's shape.</summary>
/// <param name="Id">The call's id (e.g. <c>chatcmpl-tool-…</c>).</param>
/// <param name="Name">The function's name.</param>
/// <param name="Arguments">The arguments as a JSON text (OpenAI sends them as a string).</param>
public sealed record ChatToolCall(string Id, string Name, string Arguments);
