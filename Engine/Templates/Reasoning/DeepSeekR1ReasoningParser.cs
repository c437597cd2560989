namespace Fathom.Engine.Templates.Reasoning;

/// <summary>
/// DeepSeek-R1's <c>&lt;think&gt;…&lt;/think&gt;</c>, split as vLLM's <c>deepseek_r1</c> reasoning parser does.
/// The generation prompt already opened <c>&lt;think&gt;</c>, so the output usually starts inside the reasoning:
/// a whole text drops everything up to and including a <c>&lt;think&gt;</c> if there is one, then the text before
/// the first <c>&lt;/think&gt;</c> is reasoning and the rest is content (null when empty); with no
/// <c>&lt;/think&gt;</c> yet, everything is reasoning.
/// </summary>
public sealed class DeepSeekR1ReasoningParser : IReasoningParser
{
    internal const string StartTag = "<think>";
    internal const string EndTag = "</think>";

    /// <inheritdoc />
    public ReasoningResult Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int start = text.IndexOf(StartTag, StringComparison.Ordinal);
        if (start >= 0)
            text = text[(start + StartTag.Length)..];
        int end = text.IndexOf(EndTag, StringComparison.Ordinal);
        if (end < 0)
            return new ReasoningResult(text, null);
        string content = text[(end + EndTag.Length)..];
        return new ReasoningResult(text[..end], content.Length == 0 ? null : content);
    }

    /// <inheritdoc />
    public IStreamingReasoningParser CreateStreamingParser() => new StreamingParser();

    /// <summary>
    /// Streaming: reasoning until <c>&lt;/think&gt;</c>, content after; <c>&lt;think&gt;</c> tags inside the reasoning
    /// are dropped (vLLM drops the tag tokens when streaming). Text that could be the start of a tag is held back
    /// until the next piece decides, so a tag cut across pieces never leaks into the output.
    /// </summary>
    private sealed class StreamingParser : IStreamingReasoningParser
    {
        private string _pending = "";
        private bool _inContent;

        public ReasoningResult Push(string delta)
        {
            ArgumentNullException.ThrowIfNull(delta);
            if (_inContent)
                return new ReasoningResult(null, delta.Length == 0 ? null : delta);
            string text = _pending + delta;
            _pending = "";
            var reasoning = new System.Text.StringBuilder();
            int i = 0;
            while (i < text.Length)
            {
                int lt = text.IndexOf('<', i);
                if (lt < 0)
                {
                    reasoning.Append(text, i, text.Length - i);
                    break;
                }

                reasoning.Append(text, i, lt - i);
                if (string.CompareOrdinal(text, lt, EndTag, 0, EndTag.Length) == 0)
                {
                    _inContent = true;
                    string content = text[(lt + EndTag.Length)..];
                    return Result(reasoning.ToString(), content);
                }

                if (string.CompareOrdinal(text, lt, StartTag, 0, StartTag.Length) == 0)
                {
                    i = lt + StartTag.Length;
                    continue;
                }

                string rest = text[lt..];
                if (IsPrefix(rest, EndTag) || IsPrefix(rest, StartTag))
                {
                    _pending = rest;
                    break;
                }

                reasoning.Append('<');
                i = lt + 1;
            }

            return Result(reasoning.ToString(), null);
        }

        public ReasoningResult Finish()
        {
            string pending = _pending;
            _pending = "";
            return _inContent ? Result(null, pending) : Result(pending, null);
        }

        private static bool IsPrefix(string text, string tag) =>
            text.Length < tag.Length && tag.StartsWith(text, StringComparison.Ordinal);

        private static ReasoningResult Result(string? reasoning, string? content) =>
            new(string.IsNullOrEmpty(reasoning) ? null : reasoning, string.IsNullOrEmpty(content) ? null : content);
    }
}
