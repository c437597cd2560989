using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

/// <summary>One generated token of one completion, with the text it made safe to emit.</summary>
/// <param name="Index">Which completion (0..n-1).</param>
/// <param name="Text">Text completed by this token (may be empty: a character or a possible stop string is held back; the held text comes with a later token).</param>
/// <param name="Token">The token, with log probabilities when requested.</param>
/// <param name="FinishReason">Set on the completion's last token.</param>
public sealed record GenerationOutput(int Index, string Text, SampledToken Token, FinishReason? FinishReason);

/// <summary>Token counts of a finished request.</summary>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="CompletionTokens">Tokens generated over all completions.</param>
/// <param name="CachedTokens">Prompt tokens served from the prefix cache.</param>
public sealed record GenerationUsage(int PromptTokens, int CompletionTokens, int CachedTokens);
