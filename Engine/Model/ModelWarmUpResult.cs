namespace Fathom.Engine.Model;

/// <summary>What <see cref="ModelWarmUp.Run"/> ran: the prefill's tokens, the decode steps after it, and the time taken.</summary>
public readonly record struct ModelWarmUpResult(int PromptTokens, int DecodeSteps, TimeSpan Elapsed);
