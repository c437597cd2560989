namespace Fathom.Cli.Commands.Chat;

/// <summary>Token counts of one answer.</summary>
internal sealed record ChatTokenCounts(int PromptTokens, int CompletionTokens, int CachedTokens);
