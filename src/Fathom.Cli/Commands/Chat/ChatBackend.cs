namespace Fathom.Cli.Commands.Chat;

/// <summary>
/// Where <c>fathom chat</c> sends the conversation: a model loaded in this process (<see cref="LocalChatBackend"/>)
/// or a running API or engine service (<see cref="RemoteChatBackend"/>). Both stream the same pieces.
/// </summary>
internal interface IChatBackend : IAsyncDisposable
{
    /// <summary>The model's name as the backend knows it.</summary>
    string ModelName { get; }

    /// <summary>
    /// The answer to <paramref name="messages"/>, piece by piece as it is generated; the last piece carries the token counts
    /// when the backend reports them. Cancelling <paramref name="cancellationToken"/> stops the generation.
    /// </summary>
    /// <exception cref="ChatBackendException">The backend refused the request or could not be reached.</exception>
    IAsyncEnumerable<ChatPiece> StreamAsync(IReadOnlyList<ChatLine> messages, ChatSettings settings, CancellationToken cancellationToken);
}

/// <summary>One message of the conversation as <c>fathom chat</c> keeps it (reasoning is shown, not sent back).</summary>
internal sealed record ChatLine(string Role, string Content);

/// <summary>Sampling settings of <c>fathom chat</c>; null leaves the backend's default.</summary>
internal sealed record ChatSettings(float? Temperature, int? MaxTokens);

/// <summary>Token counts of one answer.</summary>
internal sealed record ChatTokenCounts(int PromptTokens, int CompletionTokens, int CachedTokens);

/// <summary>What one step of a streamed answer added: reasoning text, answer text, or (last) the token counts.</summary>
internal sealed record ChatPiece(string? Reasoning, string? Content, ChatTokenCounts? Usage = null);

/// <summary>A backend failure a user can act on (bad URL, refused key, unknown model); printed as one line.</summary>
internal sealed class ChatBackendException(string message, Exception? inner = null) : Exception(message, inner);
