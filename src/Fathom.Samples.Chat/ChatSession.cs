using System.Text;
using Fathom.Connector;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Fathom.Samples.Chat;

/// <summary>A conversation: reads user turns, streams each answer to the output, keeps the history.</summary>
internal sealed class ChatSession(Kernel kernel, FathomPromptExecutionSettings settings, TextWriter output)
{
    private readonly IChatCompletionService _chat = kernel.GetRequiredService<IChatCompletionService>();
    private readonly ChatHistory _history = [];

    public ChatHistory History => _history;

    public void AddSystemMessage(string? system)
    {
        if (!string.IsNullOrWhiteSpace(system))
        {
            _history.AddSystemMessage(system);
        }
    }

    /// <summary>Sends one user turn and streams the answer.</summary>
    public async Task<string> AskAsync(string prompt, CancellationToken cancellationToken)
    {
        _history.AddUserMessage(prompt);
        var answer = new StringBuilder();
        await foreach (var chunk in _chat.GetStreamingChatMessageContentsAsync(_history, settings, kernel, cancellationToken))
        {
            if (chunk.Content is { Length: > 0 } text)
            {
                answer.Append(text);
                await output.WriteAsync(text);
                await output.FlushAsync(cancellationToken);
            }
        }

        await output.WriteLineAsync();
        _history.AddAssistantMessage(answer.ToString());
        return answer.ToString();
    }

    /// <summary>
    /// Chats until the input ends (EOF: Ctrl+D, or the end of piped input) or the user types <c>/exit</c>.
    /// The prompt marker is only shown when a person is typing.
    /// </summary>
    public async Task RunAsync(TextReader input, bool interactive, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (interactive)
            {
                await output.WriteAsync("> ");
                await output.FlushAsync(cancellationToken);
            }

            var line = await input.ReadLineAsync(cancellationToken);
            if (line is null || line.Trim() == "/exit")
            {
                return;
            }

            if (line.Trim().Length > 0)
            {
                await AskAsync(line, cancellationToken);
            }
        }
    }
}
