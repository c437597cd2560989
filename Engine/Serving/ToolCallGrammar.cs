using System.Text.Json;
using Fathom.Engine.Constraints;
using Fathom.Engine.Sampling;
using Fathom.Engine.Templates;

namespace Fathom.Engine.Serving;

/// <summary>
/// The grammar of a template family's tool-call syntax, with each function's arguments constrained by its
/// <c>parameters</c> schema: what <c>tool_choice: required</c> or a named function turns the output into. The
/// family's parser in Templates/Tools reads exactly this syntax back.
/// </summary>
internal static class ToolCallGrammar
{
    /// <summary>One or more calls (exactly one unless <paramref name="parallel"/>) of the <paramref name="tools"/>.</summary>
    /// <param name="family">The chat template's family.</param>
    /// <param name="tools">The offered tools that may be called (OpenAI tool objects).</param>
    /// <param name="parallel">OpenAI's <c>parallel_tool_calls</c>.</param>
    /// <exception cref="InvalidSamplingParameterException">The family has no call syntax, or a tool's parameters schema cannot be compiled.</exception>
    public static Grammar For(ChatTemplateFamily family, IReadOnlyList<(JsonElement Tool, int Index)> tools, bool parallel)
    {
        var functions = tools.Select(t => (Name: t.Tool.GetProperty("function").GetProperty("name").GetString()!, Arguments: Arguments(t.Tool, t.Index))).ToArray();
        switch (family)
        {
            case ChatTemplateFamily.Llama3Tools:
            {
                // vLLM's llama3_json format: {"name": NAME, "parameters": ARGS}, several separated by "; ".
                var call = Grammar.Choice([.. functions.Select(f => Grammar.Sequence(
                    Grammar.Literal($"{{\"name\": {JsonSerializer.Serialize(f.Name)}, \"parameters\": "), f.Arguments, Grammar.Literal("}")))]);
                return parallel ? Grammar.Repeat(call, 1, null, Grammar.Literal("; ")) : call;
            }

            case ChatTemplateFamily.DeepSeekR1:
            {
                var call = Grammar.Choice([.. functions.Select(f => Grammar.Sequence(
                    Grammar.Literal($"<｜tool▁call▁begin｜>function<｜tool▁sep｜>{f.Name}\n```json\n"), f.Arguments, Grammar.Literal("\n```<｜tool▁call▁end｜>")))]);
                return Grammar.Sequence(
                    Grammar.Literal("<｜tool▁calls▁begin｜>"), parallel ? Grammar.Repeat(call, 1, null) : call, Grammar.Literal("<｜tool▁calls▁end｜>"));
            }

            default:
                throw ChatRequestException.Invalid(
                    $"tool_choice 'required' or a named function is enforced in the chat template's tool-call syntax, and this model's template ({family}) has none; "
                    + "start the engine with --chat-template naming a tool-capable template (Llama-3.1 JSON calls or DeepSeek-R1).", "tool_choice");
        }
    }

    // A function's parameters schema; a function without one takes any JSON object.
    private static Grammar Arguments(JsonElement tool, int index)
    {
        if (!tool.GetProperty("function").TryGetProperty("parameters", out var schema) || schema.ValueKind == JsonValueKind.Null)
        {
            return Grammar.AnyJsonObject();
        }

        try
        {
            return Grammar.FromJsonSchema(schema);
        }
        catch (UnsupportedSchemaException e)
        {
            throw ChatRequestException.Invalid($"tools[{index}].function.parameters: {e.Message}", "tools");
        }
    }
}
