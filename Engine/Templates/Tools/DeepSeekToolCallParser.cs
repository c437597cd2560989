using System.Text.RegularExpressions;

namespace Fathom.Engine.Templates.Tools;

/// <summary>
/// DeepSeek-R1 / V3 tool calls, in the format the DeepSeek-R1 chat template writes them (and vLLM's
/// <c>deepseek_v3</c> parser reads): content, then
/// <c>&lt;｜tool▁calls▁begin｜&gt;&lt;｜tool▁call▁begin｜&gt;function&lt;｜tool▁sep｜&gt;NAME\n```json\nARGS\n```&lt;｜tool▁call▁end｜&gt;…&lt;｜tool▁calls▁end｜&gt;</c>.
/// Arguments are returned as written.
/// </summary>
public sealed partial class DeepSeekToolCallParser : IToolCallParser
{
    internal const string CallsBegin = "<｜tool▁calls▁begin｜>";
    internal const string CallsEnd = "<｜tool▁calls▁end｜>";
    internal const string CallEnd = "<｜tool▁call▁end｜>";

    private readonly Func<string> _idFactory;

    /// <summary>Creates the parser.</summary>
    /// <param name="idFactory">Makes call ids; vLLM-style random ids when null.</param>
    public DeepSeekToolCallParser(Func<string>? idFactory = null)
    {
        _idFactory = idFactory ?? ToolCallIds.NewId;
    }

    [GeneratedRegex("<｜tool▁call▁begin｜>(?<type>.*?)<｜tool▁sep｜>(?<name>.*?)\n```json\n(?<args>.*?)\n```<｜tool▁call▁end｜>", RegexOptions.Singleline)]
    private static partial Regex CallRegex();

    /// <inheritdoc />
    public ToolCallParseResult Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int begin = text.IndexOf(CallsBegin, StringComparison.Ordinal);
        if (begin < 0)
            return ToolCallParseResult.Text(text);
        List<ChatToolCall> calls = Calls(text[begin..]);
        if (calls.Count == 0)
            return ToolCallParseResult.Text(text);
        return new ToolCallParseResult(begin == 0 ? null : text[..begin], calls);
    }

    private List<ChatToolCall> Calls(string text) =>
        CallRegex().Matches(text).Select(m => new ChatToolCall(_idFactory(), m.Groups["name"].Value.Trim(), m.Groups["args"].Value)).ToList();

    /// <inheritdoc />
    public IStreamingToolCallParser CreateStreamingParser() => new StreamingParser(this);

    private sealed class StreamingParser(DeepSeekToolCallParser parser) : IStreamingToolCallParser
    {
        private readonly System.Text.StringBuilder _buffer = new();
        private bool _inCalls;
        private int _emittedCalls;

        public ToolCallParseResult Push(string delta)
        {
            ArgumentNullException.ThrowIfNull(delta);
            _buffer.Append(delta);
            string text = _buffer.ToString();
            if (!_inCalls)
            {
                int begin = text.IndexOf(CallsBegin, StringComparison.Ordinal);
                if (begin < 0)
                {
                    // Hold back a tail that could be the start of the calls marker.
                    int keep = HeldBack(text);
                    _buffer.Clear().Append(text, text.Length - keep, keep);
                    return ToolCallParseResult.Text(text[..^keep]);
                }

                _inCalls = true;
                _buffer.Clear().Append(text, begin, text.Length - begin);
                ToolCallParseResult calls = TakeCompleteCalls();
                return new ToolCallParseResult(begin == 0 ? null : text[..begin], calls.ToolCalls);
            }

            return TakeCompleteCalls();
        }

        private static int HeldBack(string text)
        {
            for (int keep = Math.Min(CallsBegin.Length - 1, text.Length); keep > 0; keep--)
            {
                if (CallsBegin.StartsWith(text[^keep..], StringComparison.Ordinal))
                    return keep;
            }

            return 0;
        }

        private ToolCallParseResult TakeCompleteCalls()
        {
            string text = _buffer.ToString();
            int lastEnd = text.LastIndexOf(CallEnd, StringComparison.Ordinal);
            if (lastEnd < 0)
                return ToolCallParseResult.Empty;
            int cut = lastEnd + CallEnd.Length;
            List<ChatToolCall> calls = parser.Calls(text[..cut]);
            if (calls.Count == 0)
                return ToolCallParseResult.Empty;
            // Keep the marker so that the rest still reads as the calls section.
            _buffer.Clear().Append(CallsBegin).Append(text, cut, text.Length - cut);
            _emittedCalls += calls.Count;
            return new ToolCallParseResult(null, calls);
        }

        public ToolCallParseResult Finish()
        {
            string text = _buffer.ToString();
            _buffer.Clear();
            if (!_inCalls)
                return ToolCallParseResult.Text(text);
            string rest = text[CallsBegin.Length..].Replace(CallsEnd, "", StringComparison.Ordinal);
            if (string.IsNullOrWhiteSpace(rest))
                return ToolCallParseResult.Empty;
            return ToolCallParseResult.Text(_emittedCalls == 0 ? text : rest);
        }
    }
}
