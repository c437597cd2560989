namespace Fathom.Cli.Commands.Chat;

/// <summary>One message of the conversation as <c>fathom chat</c> keeps it (reasoning is shown, not sent back).</summary>
internal sealed record ChatLine(string Role, string Content);
