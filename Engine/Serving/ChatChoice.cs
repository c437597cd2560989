using Fathom.Engine.Sampling;
using Fathom.Engine.Templates;

namespace Fathom.Engine.Serving;

/// <summary>One whole choice of a chat answer.</summary>
/// <param name="Index">The choice (0..n-1).</param>
/// <param name="ReasoningContent">The reasoning; null when the model has no reasoning format (may be empty when it closed at once).</param>
/// <param name="Content">The answer text: null when the answer was only tool calls, else never null.</param>
/// <param name="ToolCalls">The tool calls found in the answer.</param>
/// <param name="FinishReason">Why the choice ended; <see cref="ChatFinishReason.ToolCalls"/> when it made calls.</param>
/// <param name="Tokens">Every sampled token, in order.</param>
public sealed record ChatChoice(
    int Index,
    string? ReasoningContent,
    string? Content,
    IReadOnlyList<ChatToolCall> ToolCalls,
    ChatFinishReason? FinishReason,
    IReadOnlyList<SampledToken> Tokens);
