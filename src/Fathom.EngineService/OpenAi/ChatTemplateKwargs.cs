using System.Text.Json;
using Fathom.Engine.Templates;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// The request field <c>chat_template_kwargs</c> (as vLLM and SGLang accept it, e.g. <c>{"enable_thinking": false}</c>):
/// extra variables for the chat template, checked by <see cref="ChatTemplateVariables"/>; any problem is a 400 naming the field.
/// </summary>
internal static class ChatTemplateKwargs
{
    public const string Field = "chat_template_kwargs";

    /// <summary>The variables, or null when the field is absent, null or an empty object.</summary>
    public static IReadOnlyDictionary<string, object?>? Parse(JsonElement body)
    {
        if (body.Get(Field) is not { } kwargs)
            return null;
        if (kwargs.ValueKind != JsonValueKind.Object)
            throw RequestFields.Invalid(Field, "an object");
        try
        {
            var variables = ChatTemplateVariables.FromJson(kwargs);
            return variables.Count == 0 ? null : variables;
        }
        catch (ArgumentException e)
        {
            throw OpenAiException.BadRequest($"{Field}: {e.Message}", Field);
        }
    }
}
