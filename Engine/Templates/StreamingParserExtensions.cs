using Fathom.Engine.Templates.Reasoning;
using Fathom.Engine.Templates.Tools;

namespace Fathom.Engine.Templates;

/// <summary>Feeding a streaming parser its pieces, the last of which also flushes what it held back.</summary>
public static class StreamingParserExtensions
{
    /// <summary>Pushes <paramref name="delta"/>; when <paramref name="last"/>, also finishes the stream and appends the held-back text.</summary>
    public static ReasoningResult Push(this IStreamingReasoningParser parser, string delta, bool last)
    {
        ArgumentNullException.ThrowIfNull(parser);
        var result = parser.Push(delta);
        if (!last)
        {
            return result;
        }

        var rest = parser.Finish();
        return new ReasoningResult(result.ReasoningContent + rest.ReasoningContent, result.Content + rest.Content);
    }

    /// <summary>Pushes <paramref name="delta"/>; when <paramref name="last"/>, also finishes the stream and appends its text and calls.</summary>
    public static ToolCallParseResult Push(this IStreamingToolCallParser parser, string delta, bool last)
    {
        ArgumentNullException.ThrowIfNull(parser);
        var result = parser.Push(delta);
        if (!last)
        {
            return result;
        }

        var rest = parser.Finish();
        return new ToolCallParseResult(result.Content + rest.Content, [.. result.ToolCalls, .. rest.ToolCalls]);
    }
}
