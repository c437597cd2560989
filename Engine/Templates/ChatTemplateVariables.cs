using System.Text.Json;

namespace Fathom.Engine.Templates;

/// <summary>
/// Checks the extra variables a request hands to the chat template (OpenAI-compatible servers' <c>chat_template_kwargs</c>,
/// e.g. <c>{"enable_thinking": false}</c>): names a template can reference and that do not replace the variables the
/// renderer sets itself, and values within <see cref="ChatTemplateLimits.MaxExtraVariables"/> and
/// <see cref="ChatTemplateLimits.MaxExtraVariablesLength"/>.
/// </summary>
public static class ChatTemplateVariables
{
    /// <summary>
    /// Names the renderer or Jinja itself defines (<see cref="ChatTemplate.Render"/>'s variables, transformers' globals
    /// and jinja2's), plus Jinja's literal and operator words, which a template cannot read as variables.
    /// </summary>
    public static IReadOnlySet<string> ReservedNames { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token",
        "raise_exception", "strftime_now", "range", "namespace", "dict", "lipsum", "cycler", "joiner", "loop", "caller",
        "varargs", "kwargs", "true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else",
    };

    /// <summary>Reads a JSON object of variables into <see cref="ChatTemplateRenderOptions.ExtraVariables"/>' shape.</summary>
    /// <param name="variables">The object, e.g. <c>{"enable_thinking": false}</c>.</param>
    /// <param name="limits">The bounds; <see cref="ChatTemplateLimits.Default"/> if null.</param>
    /// <exception cref="ArgumentException">Not an object, a name that is not an identifier or is reserved, or beyond a limit; the message names the variable.</exception>
    public static IReadOnlyDictionary<string, object?> FromJson(JsonElement variables, ChatTemplateLimits? limits = null)
    {
        limits ??= ChatTemplateLimits.Default;
        if (variables.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("The template variables must be a JSON object of names to values.");
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        long length = 0;
        foreach (JsonProperty property in variables.EnumerateObject())
        {
            string name = property.Name;
            if (!IsIdentifier(name))
                throw new ArgumentException($"The template variable name \"{Shorten(name)}\" is not an identifier a template can use ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters).");
            if (ReservedNames.Contains(name))
                throw new ArgumentException($"The template variable \"{name}\" is set by the server or by Jinja itself and cannot be given.");
            if (!result.TryAdd(name, property.Value.Clone()))
                throw new ArgumentException($"The template variable \"{name}\" is given twice.");
            if (result.Count > limits.MaxExtraVariables)
                throw new ArgumentException($"At most {limits.MaxExtraVariables} template variables may be given.");
            length += property.Value.GetRawText().Length;
            if (length > limits.MaxExtraVariablesLength)
                throw new ArgumentException($"The template variables' values may hold at most {limits.MaxExtraVariablesLength} characters of JSON (\"{name}\" crosses it).");
        }

        return result;
    }

    private static bool IsIdentifier(string name)
    {
        if (name.Length is 0 or > 64 || !(char.IsAsciiLetter(name[0]) || name[0] == '_'))
            return false;
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
                return false;
        }

        return true;
    }

    private static string Shorten(string name) => name.Length <= 64 ? name : name[..64] + "…";
}
