using Fathom.Engine.Sampling;
using Fathom.Engine.Templates;

namespace Fathom.Engine.Serving;

/// <summary>
/// What one generated token added to one choice of a streamed chat answer. Text that might still turn out to be a
/// tag, a tool call or a stop string is held back and arrives with a later delta.
/// </summary>
/// <param name="Index">The choice (0..n-1).</param>
/// <param name="ReasoningContent">Reasoning text (DeepSeek-R1's <c>&lt;think&gt;</c>); null when none.</param>
/// <param name="Content">Answer text; empty when none.</param>
/// <param name="ToolCalls">Tool calls completed by this token.</param>
/// <param name="FirstToolCallIndex">The index, across the choice, of the first of <paramref name="ToolCalls"/>.</param>
/// <param name="Token">The sampled token (with log probabilities when requested).</param>
/// <param name="FinishReason">Set on the choice's last delta; <see cref="ChatFinishReason.ToolCalls"/> when it made calls.</param>
public sealed record ChatDelta(
    int Index,
    string? ReasoningContent,
    string Content,
    IReadOnlyList<ChatToolCall> ToolCalls,
    int FirstToolCallIndex,
    SampledToken Token,
    ChatFinishReason? FinishReason)
{
    /// <summary>True when the delta carries no text, no call and no finish reason (only its token).</summary>
    public bool IsEmpty => string.IsNullOrEmpty(ReasoningContent) && Content.Length == 0 && ToolCalls.Count == 0 && FinishReason is null;
}
