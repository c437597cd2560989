using System.Diagnostics;
using System.Globalization;
using System.Text;
using Fathom.Engine.Scheduling;

namespace Fathom.Cli.Commands.Chat;

/// <summary>
/// The interactive loop of <c>fathom chat</c>: reads messages (and <c>/clear</c>, <c>/system</c>…), streams each answer
/// with its reasoning set apart, keeps the history, and after each answer prints its token counts and speed.
/// <see cref="CancelAnswer"/> (Ctrl+C) stops the answer being generated, not the loop; the end of the input ends it.
/// </summary>
internal sealed class ChatConsole
{
    private const string Dim = "\e[2m";
    private const string Reset = "\e[0m";
    private readonly IChatBackend _backend;
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly ChatSettings _settings;
    private readonly bool _hideReasoning;
    private readonly bool _color;
    private readonly List<ChatLine> _history = [];
    private readonly Lock _lock = new();
    private CancellationTokenSource? _answer;

    public ChatConsole(IChatBackend backend, TextWriter output, TextWriter error, ChatSettings settings, string? system, bool hideReasoning, bool color)
    {
        _backend = backend;
        _output = output;
        _error = error;
        _settings = settings;
        SystemPrompt = system;
        _hideReasoning = hideReasoning;
        _color = color;
    }

    /// <summary>The system message sent before the history; null for none.</summary>
    public string? SystemPrompt { get; private set; }

    /// <summary>The conversation so far (user and assistant turns, without the system message).</summary>
    public IReadOnlyList<ChatLine> History => _history;

    /// <summary>Stops the answer being generated; false when none is.</summary>
    public bool CancelAnswer()
    {
        lock (_lock)
        {
            if (_answer is null)
            {
                return false;
            }

            _answer.Cancel();
            return true;
        }
    }

    /// <summary>Runs until the input ends or <c>/bye</c>; 0.</summary>
    public async Task<int> RunAsync(TextReader input, CancellationToken cancellationToken)
    {
        var reader = new ChatInputReader(input, _output);
        _output.WriteLine($"Chatting with {_backend.ModelName}. /help for commands; Ctrl+C stops an answer, Ctrl+D (end of input) quits.");
        while (!cancellationToken.IsCancellationRequested && reader.ReadMessage() is { } message)
        {
            if (message.StartsWith('/'))
            {
                if (!RunCommand(message))
                {
                    break;
                }

                continue;
            }

            if (string.IsNullOrWhiteSpace(message))
            {
                continue;
            }

            await AnswerAsync(message, cancellationToken).ConfigureAwait(false);
        }

        _output.WriteLine();
        return 0;
    }

    /// <summary>One message and its answer, the answer alone on the output (for scripts); 0, or 2 on a failure.</summary>
    public async Task<int> AnswerOnceAsync(string message, CancellationToken cancellationToken)
    {
        var answer = new StringBuilder();
        try
        {
            await foreach (var piece in _backend.StreamAsync(Messages(message), _settings, cancellationToken).ConfigureAwait(false))
            {
                if (piece.Content is { } content)
                {
                    answer.Append(content);
                    _output.Write(content);
                    _output.Flush();
                }
            }
        }
        catch (Exception e) when (IsAnswerFailure(e))
        {
            _error.WriteLine($"fathom chat: {e.Message.ReplaceLineEndings(" ")}");
            return ModelCommandSupport.ExitFailure;
        }

        _output.WriteLine();
        return 0;
    }

    // False for /bye.
    private bool RunCommand(string line)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        var name = space < 0 ? line : line[..space];
        var argument = space < 0 ? "" : line[(space + 1)..].Trim();
        switch (name)
        {
            case "/bye" or "/exit" or "/quit":
                return false;
            case "/clear":
                _history.Clear();
                _output.WriteLine("(conversation cleared)");
                break;
            case "/system":
                SystemPrompt = argument.Length > 0 ? argument : null;
                _output.WriteLine(SystemPrompt is null ? "(system prompt removed)" : "(system prompt set)");
                break;
            case "/help":
                _output.WriteLine(""""
                    /system TEXT  set the system prompt (/system alone removes it)
                    /clear        forget the conversation
                    /bye          quit (as does Ctrl+D)
                    A line ending in \ continues on the next; """ opens and closes a multi-line message.
                    """");
                break;
            default:
                _output.WriteLine($"unknown command {name}; /help lists them");
                break;
        }

        return true;
    }

    private List<ChatLine> Messages(string message)
    {
        var messages = new List<ChatLine>();
        if (SystemPrompt is { } system)
        {
            messages.Add(new ChatLine("system", system));
        }

        messages.AddRange(_history);
        messages.Add(new ChatLine("user", message));
        return messages;
    }

    private async Task AnswerAsync(string message, CancellationToken cancellationToken)
    {
        using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lock (_lock)
        {
            _answer = answer;
        }

        var view = new AnswerView(this);
        var clock = Stopwatch.StartNew();
        try
        {
            await foreach (var piece in _backend.StreamAsync(Messages(message), _settings, answer.Token).ConfigureAwait(false))
            {
                view.Show(piece, clock.Elapsed);
            }

            view.End();
            _history.Add(new ChatLine("user", message));
            _history.Add(new ChatLine("assistant", view.Answer));
            WriteDim(view.Summary(clock.Elapsed));
            _output.WriteLine();
        }
        catch (OperationCanceledException) when (answer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The turn is dropped whole, so the history never holds a question without its answer.
            view.End();
            WriteDim("[answer stopped; not kept in the history]");
            _output.WriteLine();
        }
        catch (Exception e) when (IsAnswerFailure(e))
        {
            // One failed answer (a server gone, a conversation past the context) leaves the chat running: /clear helps.
            view.End();
            _error.WriteLine($"fathom chat: {e.Message.ReplaceLineEndings(" ")}");
        }
        finally
        {
            lock (_lock)
            {
                _answer = null;
            }
        }
    }

    // What can end one answer without being a bug: the backend's refusals, a connection lost mid-stream, the engine's
    // typed rejections (context full, queue full).
    private static bool IsAnswerFailure(Exception e) =>
        e is ChatBackendException or HttpRequestException or IOException or ArgumentException or SequenceFailedException;

    private void WriteDim(string text)
    {
        _output.Write(_color ? Dim + text + Reset : text);
        _output.Flush();
    }

    // The screen side of one answer: reasoning (dimmed, or folded to a count), then the answer, then the numbers.
    private sealed class AnswerView(ChatConsole console)
    {
        private readonly StringBuilder _answer = new();
        private TimeSpan? _firstToken;
        private TimeSpan _lastToken;
        private int _pieces;
        private int _reasoningPieces;
        private bool _inReasoning;
        private ChatTokenCounts? _usage;

        public string Answer => _answer.ToString();

        public void Show(ChatPiece piece, TimeSpan at)
        {
            if (piece.Usage is { } usage)
            {
                _usage = usage;
                return;
            }

            _firstToken ??= at;
            _lastToken = at;
            _pieces++;
            if (piece.Reasoning is { } reasoning)
            {
                _reasoningPieces++;
                if (!_inReasoning)
                {
                    _inReasoning = true;
                    if (!console._hideReasoning)
                    {
                        console.WriteDim("Thinking...\n");
                    }
                }

                if (!console._hideReasoning)
                {
                    console.WriteDim(reasoning);
                }
            }

            if (piece.Content is { } content)
            {
                CloseReasoning();
                _answer.Append(content);
                console._output.Write(content);
                console._output.Flush();
            }
        }

        public void End()
        {
            CloseReasoning();
            console._output.WriteLine();
        }

        public string Summary(TimeSpan end)
        {
            int tokens = _usage?.CompletionTokens ?? _pieces;
            // Generation speed, after the first token (whose wait is the prompt's prefill, shown apart).
            var decoding = _lastToken - (_firstToken ?? TimeSpan.Zero);
            double rate = tokens > 1 && decoding > TimeSpan.Zero ? (tokens - 1) / decoding.TotalSeconds : tokens / Math.Max(end.TotalSeconds, 1e-6);
            var text = new StringBuilder("[");
            if (_usage is { } usage)
            {
                text.Append(CultureInfo.InvariantCulture, $"prompt {usage.PromptTokens} tokens ({usage.CachedTokens} cached) · ");
            }

            text.Append(CultureInfo.InvariantCulture, $"answer {tokens} tokens · {rate:F1} tokens/s");
            if (_firstToken is { } first)
            {
                text.Append(CultureInfo.InvariantCulture, $" · first token {first.TotalMilliseconds:F0} ms");
            }

            return text.Append(']').ToString();
        }

        private void CloseReasoning()
        {
            if (!_inReasoning)
            {
                return;
            }

            _inReasoning = false;
            console.WriteDim(console._hideReasoning ? $"(thought for {_reasoningPieces} tokens)\n" : "\n...done thinking.\n\n");
        }
    }
}
