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
