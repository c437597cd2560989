using System.Text.Json;
using Fathom.Engine.Sampling;
using Fathom.Engine.Templates;

namespace Fathom.Engine.Serving;

/// <summary>A chat turn to generate: the conversation, the tools offered and the sampling settings.</summary>
public sealed record ChatRequest
{
    /// <summary>The conversation so far, rendered with the model's chat template.</summary>
    public required IReadOnlyList<ChatMessage> Messages { get; init; }

    /// <summary>The sampling settings as the caller gave them; the template's stop strings are added by the session.</summary>
    public required SamplingParams Sampling { get; init; }

    /// <summary>
    /// OpenAI tool definitions (<c>{"type":"function","function":{...}}</c>) handed to the template; null or empty
    /// renders none.
    /// </summary>
    public IReadOnlyList<JsonElement>? Tools { get; init; }

    /// <summary>
    /// Whether the answer is parsed for tool calls (false for OpenAI's <c>tool_choice: none</c>, which still
    /// renders the tools). Has no effect without <see cref="Tools"/> or when the template has no tool-call format.
    /// </summary>
    public bool ToolsEnabled { get; init; } = true;

    /// <summary>The request's cache salt (<see cref="Scheduling.EngineRequest.CacheSalt"/>); null: none.</summary>
    public string? CacheSalt { get; init; }

    /// <summary>What the answer's content must be (OpenAI's <c>response_format</c>); null: free text.</summary>
    public ChatResponseFormat? ResponseFormat { get; init; }

    /// <summary>
    /// OpenAI's <c>tool_choice</c>; null: <see cref="ChatToolChoice.Auto"/>. <c>required</c> and a named function are
    /// enforced by constraining the output to the template family's call syntax; <c>none</c> reads no calls.
    /// </summary>
    public ChatToolChoice? ToolChoice { get; init; }

    /// <summary>OpenAI's <c>parallel_tool_calls</c>: false allows exactly one call where calls are enforced.</summary>
    public bool ParallelToolCalls { get; init; } = true;

    /// <summary>
    /// For a reasoning model under a constraint: most reasoning tokens before the end of the reasoning is forced and
    /// the constrained answer begins; null: no limit.
    /// </summary>
    public int? MaxReasoningTokens { get; init; }

    /// <summary>
    /// Extra variables for the chat template (<c>chat_template_kwargs</c>, e.g. <c>enable_thinking</c>), checked with
    /// <see cref="ChatTemplateVariables.FromJson"/>; null for none.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? TemplateVariables { get; init; }

    /// <summary>The prefix of the engine's request id (the host appends a unique number).</summary>
    public string RequestIdPrefix { get; init; } = "chatcmpl";
}
