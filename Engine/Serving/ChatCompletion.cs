using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Serving;

/// <summary>A whole chat answer: every choice and the token counts.</summary>
/// <param name="RequestId">The engine's id of the request.</param>
/// <param name="Choices">The choices, by index.</param>
/// <param name="Usage">Token counts of the request.</param>
public sealed record ChatCompletion(string RequestId, IReadOnlyList<ChatChoice> Choices, GenerationUsage Usage);
