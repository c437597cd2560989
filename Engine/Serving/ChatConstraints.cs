using Fathom.Engine.Constraints;
using Fathom.Engine.Sampling;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Reasoning;

namespace Fathom.Engine.Serving;

/// <summary>
/// Turns a chat request's <c>response_format</c> and <c>tool_choice</c> into the constraint each of its sequences
/// generates under: a required or named tool call is constrained to the template family's call syntax; else a JSON
/// response format to its schema. For a reasoning model the constraint starts after the end of the reasoning.
/// </summary>
public static class ChatConstraints
{
    /// <summary>The grammar the answer must follow, or null when it is free.</summary>
    /// <exception cref="InvalidSamplingParameterException">A schema keyword is not supported, the named tool is not offered, or the template has no call syntax (the parameter is named).</exception>
    public static Grammar? AnswerGrammar(ChatRequest request, ChatTemplateFamily family)
    {
        ArgumentNullException.ThrowIfNull(request);
        var choice = request.ToolChoice ?? ChatToolChoice.Auto;
        var tools = request.Tools ?? [];
        if (choice.Mode is ChatToolChoiceMode.Required or ChatToolChoiceMode.Function)
        {
            var callable = tools.Select((tool, index) => (Tool: tool, Index: index))
                .Where(t => choice.Mode == ChatToolChoiceMode.Required || t.Tool.GetProperty("function").GetProperty("name").GetString() == choice.FunctionName)
                .ToList();
            if (callable.Count == 0)
            {
                throw ChatRequestException.Invalid(choice.Mode == ChatToolChoiceMode.Required
                    ? "tool_choice 'required' needs tools."
                    : $"tool_choice names the function '{choice.FunctionName}', which is not among the tools.", "tool_choice");
            }

            return ToolCallGrammar.For(family, callable, request.ParallelToolCalls);
        }

        return ForResponseFormat(request.ResponseFormat);
    }

    /// <summary>The grammar of a <c>response_format</c> (also for /v1/completions), or null for text.</summary>
    /// <exception cref="InvalidSamplingParameterException">A schema keyword is not supported (param <c>response_format</c>).</exception>
    public static Grammar? ForResponseFormat(ChatResponseFormat? format)
    {
        switch (format?.Kind)
        {
            case ChatResponseFormatKind.JsonObject:
                return Grammar.AnyJsonObject();
            case ChatResponseFormatKind.JsonSchema:
                try
                {
                    return Grammar.FromJsonSchema(format.Schema!.Value);
                }
                catch (UnsupportedSchemaException e)
                {
                    throw ChatRequestException.Invalid($"response_format: {e.Message}", "response_format");
                }

            default:
                return null;
        }
    }

    /// <summary>
    /// Makes one constraint per sequence for <paramref name="grammar"/>. Builds the grammar's token tables now (on the
    /// caller's thread, not the engine loop's); each sequence then starts from a copy.
    /// </summary>
    /// <param name="grammar">The answer's grammar.</param>
    /// <param name="tokens">The served model's constraint tokens.</param>
    /// <param name="reasoning">The model's reasoning parser: when it has an end marker, the grammar starts after it.</param>
    /// <param name="reasoningBudget">Most reasoning tokens before the end marker is forced; null: none.</param>
    public static Func<ITokenConstraint> Factory(Grammar grammar, ConstraintTokens tokens, IReasoningParser? reasoning = null, int? reasoningBudget = null)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        ArgumentNullException.ThrowIfNull(tokens);
        var vocabulary = tokens.Vocabulary;
        if (EndMarkerOf(reasoning) is not { } marker)
        {
            var prototype = new GrammarMatcher(grammar, vocabulary);
            return () => new GrammarTokenConstraint(prototype.Clone());
        }

        // What a reasoning model writes after the marker usually starts with a blank line: allow the whitespace.
        var answer = Grammar.Sequence(Grammar.Whitespace, grammar);
        var afterMarker = new GrammarMatcher(answer, vocabulary);
        var forced = reasoningBudget is null ? null : new GrammarMatcher(Grammar.Sequence(Grammar.Literal(marker + "\n\n"), grammar), vocabulary);
        var table = tokens.MarkerTable(marker);
        return () => new ReasoningGatedConstraint(table, tokens.EndOfGenerationIds, afterMarker, forced, reasoningBudget);
    }

    /// <summary>The text that ends a reasoning family's reasoning, or null when the model does not reason.</summary>
    public static string? EndMarkerOf(IReasoningParser? reasoning) => reasoning switch
    {
        DeepSeekR1ReasoningParser => "</think>",
        _ => null,
    };
}
