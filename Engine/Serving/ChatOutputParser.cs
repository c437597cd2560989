using System.Text;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Reasoning;
using Fathom.Engine.Templates.Tools;

namespace Fathom.Engine.Serving;

/// <summary>
/// The one place model output becomes a chat answer: reasoning is split off first, then tool calls are parsed
/// out of what remains, and a choice that made calls finishes with <c>tool_calls</c>.
/// </summary>
/// <remarks>
/// A streamed choice goes through the streaming parsers token by token; a whole choice goes through the whole-text
/// parsers, which differ at the edges (the streaming reasoning parser drops every <c>&lt;think&gt;</c>, the whole one
/// only the first; null versus empty content) and which non-streaming answers have always used.
/// </remarks>
internal sealed class ChatOutputParser
{
    private readonly IStreamingReasoningParser? _reasoning;
    private readonly IStreamingToolCallParser? _tools;
    private int _calls;

    public ChatOutputParser(IReasoningParser? reasoning, IToolCallParser? tools)
    {
        _reasoning = reasoning?.CreateStreamingParser();
        _tools = tools?.CreateStreamingParser();
    }

    /// <summary>Parses one token's text of a streamed choice.</summary>
    public ChatDelta Push(GenerationOutput output)
    {
        bool last = output.FinishReason is not null;
        var split = _reasoning?.Push(output.Text, last) ?? new ReasoningResult(null, output.Text);
        string content = split.Content ?? "";
        IReadOnlyList<ChatToolCall> calls = [];
        if (_tools is not null)
        {
            var parsed = _tools.Push(content, last);
            content = parsed.Content ?? "";
            calls = parsed.ToolCalls;
        }

        int first = _calls;
        _calls += calls.Count;
        var finish = output.FinishReason is { } reason ? Finish(reason, _calls > 0) : (ChatFinishReason?)null;
        return new ChatDelta(output.Index, string.IsNullOrEmpty(split.ReasoningContent) ? null : split.ReasoningContent, content, calls, first, output.Token, finish);
    }

    /// <summary>Parses a whole choice from its full text.</summary>
    public static ChatChoice ParseWhole(int index, string text, IReadOnlyList<SampledToken> tokens, FinishReason? finish,
        IReasoningParser? reasoning, IToolCallParser? tools)
    {
        var split = reasoning?.Parse(text) ?? new ReasoningResult(null, text);
        var calls = tools?.Parse(split.Content ?? "");
        if (calls is { HasToolCalls: true })
        {
            string? content = calls.Content is { Length: > 0 } rest ? rest : null;
            return new ChatChoice(index, split.ReasoningContent, content, calls.ToolCalls, ChatFinishReason.ToolCalls, tokens);
        }

        return new ChatChoice(index, split.ReasoningContent, split.Content ?? "", [], finish is { } reason ? Finish(reason, false) : null, tokens);
    }

    /// <summary>Collects a whole choice's text, tokens and finish reason as the engine streams them.</summary>
    internal sealed class Accumulator
    {
        public StringBuilder Text { get; } = new();

        public List<SampledToken> Tokens { get; } = [];

        public FinishReason? FinishReason { get; set; }
    }

    private static ChatFinishReason Finish(FinishReason reason, bool calledTools) => calledTools ? ChatFinishReason.ToolCalls : reason switch
    {
        Scheduling.FinishReason.Length => ChatFinishReason.Length,
        Scheduling.FinishReason.Abort => ChatFinishReason.Abort,
        _ => ChatFinishReason.Stop,
    };
}
