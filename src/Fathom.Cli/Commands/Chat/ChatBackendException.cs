namespace Fathom.Cli.Commands.Chat;

/// <summary>A backend failure a user can act on (bad URL, refused key, unknown model); printed as one line.</summary>
internal sealed class ChatBackendException(string message, Exception? inner = null) : Exception(message, inner);
