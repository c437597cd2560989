namespace Fathom.Engine.Templates.Tools;

/// <summary>Finds the tool calls in a model's generated text, in the format its chat template taught it.</summary>
public interface IToolCallParser
{
    /// <summary>Parses a whole generated text (after any reasoning has been split off).</summary>
    /// <param name="text">The generated answer text.</param>
    ToolCallParseResult Parse(string text);

    /// <summary>Starts parsing a text that arrives in pieces (one stream per sequence).</summary>
    IStreamingToolCallParser CreateStreamingParser();
}

/// <summary>Parses a streamed text piece by piece: plain text passes through, each tool call is emitted once complete.</summary>
public interface IStreamingToolCallParser
{
    /// <summary>Takes the next piece; returns the content that can be emitted now and any calls completed by it.</summary>
    /// <param name="delta">The newly generated text.</param>
    ToolCallParseResult Push(string delta);

    /// <summary>Ends the stream: returns held-back text (as content when it was not a valid tool call).</summary>
    ToolCallParseResult Finish();
}

/// <summary>Plain content (null when none) and the tool calls found.</summary>
/// <param name="Content">Text that is not a tool call.</param>
/// <param name="ToolCalls">The calls, in order; arguments are JSON text.</param>
public sealed record ToolCallParseResult(string? Content, IReadOnlyList<ChatToolCall> ToolCalls)
{
    /// <summary>Nothing found.</summary>
    public static ToolCallParseResult Empty { get; } = new(null, []);

    /// <summary>True when at least one call was found.</summary>
    public bool HasToolCalls => ToolCalls.Count > 0;

    internal static ToolCallParseResult Text(string? content) =>
        string.IsNullOrEmpty(content) ? Empty : new ToolCallParseResult(content, []);
}

internal static class ToolCallIds
{
    /// <summary>vLLM's form: <c>chatcmpl-tool-</c> and 32 hex digits.</summary>
    public static string NewId() => "chatcmpl-tool-" + Guid.NewGuid().ToString("N");
}
