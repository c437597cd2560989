namespace Fathom.Cli.Commands.Chat;

/// <summary>What one step of a streamed answer added: reasoning text, answer text, or (last) the token counts.</summary>
internal sealed record ChatPiece(string? Reasoning, string? Content, ChatTokenCounts? Usage = null);
