using System.Text.Json;
using Fathom.Engine.Templates.Jinja;

namespace Fathom.Engine.Templates.Tools;

/// <summary>
/// Llama-3.1+ JSON tool calls, as vLLM's <c>llama3_json</c> parser reads them: the answer is (optionally after
/// <c>&lt;|python_tag|&gt;</c>) one or more JSON objects <c>{"name": …, "parameters": {…}}</c> (or <c>"arguments"</c>)
/// separated by <c>;</c>. Arguments are re-serialized the way Python's <c>json.dumps</c> writes them. Anything that is
/// not entirely such calls is plain content. Leading whitespace is tolerated.
/// </summary>
public sealed class Llama3JsonToolCallParser : IToolCallParser
{
    internal const string PythonTag = "<|python_tag|>";

    private readonly Func<string> _idFactory;

    /// <summary>Creates the parser.</summary>
    /// <param name="idFactory">Makes call ids; vLLM-style random ids when null.</param>
    public Llama3JsonToolCallParser(Func<string>? idFactory = null)
    {
        _idFactory = idFactory ?? ToolCallIds.NewId;
    }

    /// <inheritdoc />
    public ToolCallParseResult Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int start = CallsStart(text);
        if (start < 0)
            return ToolCallParseResult.Text(text);
        var calls = new List<ChatToolCall>();
        int pos = start;
        while (true)
        {
            pos = SkipSeparators(text, pos);
            if (pos >= text.Length)
                break;
            int end = JsonValueEnd(text, pos);
            if (end < 0 || TryMakeCall(text[pos..end]) is not { } call)
                return ToolCallParseResult.Text(text);
            calls.Add(call);
            pos = end;
        }

        return calls.Count == 0 ? ToolCallParseResult.Text(text) : new ToolCallParseResult(null, calls);
    }

    /// <inheritdoc />
    public IStreamingToolCallParser CreateStreamingParser() => new StreamingParser(this);

    /// <summary>Where the JSON calls begin, or -1 when the text is not a tool call.</summary>
    private static int CallsStart(string text)
    {
        int i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
            i++;
        if (string.CompareOrdinal(text, i, PythonTag, 0, PythonTag.Length) == 0)
            return i + PythonTag.Length;
        return i < text.Length && text[i] == '{' ? i : -1;
    }

    private static int SkipSeparators(string text, int pos)
    {
        while (pos < text.Length && (char.IsWhiteSpace(text[pos]) || text[pos] == ';'))
            pos++;
        return pos;
    }

    /// <summary>The end (exclusive) of the JSON object starting at <paramref name="start"/>, or -1 if it is not complete.</summary>
    internal static int JsonValueEnd(string text, int start)
    {
        if (text[start] != '{')
            return -1;
        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    inString = false;
                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    break;
                case '{' or '[':
                    depth++;
                    break;
                case '}' or ']':
                    if (--depth == 0)
                        return i + 1;
                    break;
            }
        }

        return -1;
    }

    private ChatToolCall? TryMakeCall(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("name", out JsonElement name) || name.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            if (!root.TryGetProperty("arguments", out JsonElement arguments) && !root.TryGetProperty("parameters", out arguments))
                return null;
            return new ChatToolCall(_idFactory(), name.GetString()!, PythonJson.Dumps(TemplateValues.From(arguments)));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed class StreamingParser(Llama3JsonToolCallParser parser) : IStreamingToolCallParser
    {
        private enum Mode
        {
            Undecided,
            Content,
            Calls,
            Invalid,
        }

        private readonly System.Text.StringBuilder _buffer = new();
        private Mode _mode;
        private int _pos;
        private int _emittedCalls;

        public ToolCallParseResult Push(string delta)
        {
            ArgumentNullException.ThrowIfNull(delta);
            if (_mode == Mode.Content)
                return ToolCallParseResult.Text(delta);
            _buffer.Append(delta);
            if (_mode == Mode.Undecided)
            {
                string text = _buffer.ToString();
                string trimmed = text.TrimStart();
                if (trimmed.Length == 0 || (trimmed.Length < PythonTag.Length && PythonTag.StartsWith(trimmed, StringComparison.Ordinal)))
                    return ToolCallParseResult.Empty;
                _pos = CallsStart(text);
                if (_pos < 0)
                {
                    _mode = Mode.Content;
                    _buffer.Clear();
                    return ToolCallParseResult.Text(text);
                }

                _mode = Mode.Calls;
            }

            return _mode == Mode.Calls ? TakeCompleteCalls() : ToolCallParseResult.Empty;
        }

        private ToolCallParseResult TakeCompleteCalls()
        {
            string text = _buffer.ToString();
            var calls = new List<ChatToolCall>();
            while (true)
            {
                int pos = SkipSeparators(text, _pos);
                if (pos >= text.Length)
                    break;
                if (text[pos] != '{')
                {
                    _mode = Mode.Invalid;
                    break;
                }

                int end = JsonValueEnd(text, pos);
                if (end < 0)
                    break;
                if (parser.TryMakeCall(text[pos..end]) is not { } call)
                {
                    _mode = Mode.Invalid;
                    break;
                }

                calls.Add(call);
                _pos = end;
            }

            _emittedCalls += calls.Count;
            return calls.Count == 0 ? ToolCallParseResult.Empty : new ToolCallParseResult(null, calls);
        }

        public ToolCallParseResult Finish()
        {
            if (_mode == Mode.Content)
                return ToolCallParseResult.Empty;
            string text = _buffer.ToString();
            _buffer.Clear();
            if (_mode == Mode.Undecided)
                return ToolCallParseResult.Text(text);
            // Unparsed text left: with no call emitted the whole output was plain content, as vLLM would return it.
            string rest = text[Math.Min(_pos, text.Length)..];
            if (_emittedCalls == 0)
                return ToolCallParseResult.Text(text);
            return string.IsNullOrWhiteSpace(rest) ? ToolCallParseResult.Empty : ToolCallParseResult.Text(rest);
        }
    }
}
