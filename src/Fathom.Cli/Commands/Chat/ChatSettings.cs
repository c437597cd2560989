namespace Fathom.Cli.Commands.Chat;

/// <summary>Sampling settings of <c>fathom chat</c>; null leaves the backend's default.</summary>
internal sealed record ChatSettings(float? Temperature, int? MaxTokens);
