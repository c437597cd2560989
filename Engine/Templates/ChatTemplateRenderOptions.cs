using System.Text.Json;

namespace Fathom.Engine.Templates;

/// <summary>The variables besides the messages that <c>apply_chat_template</c> passes to a template.</summary>
public sealed class ChatTemplateRenderOptions
{
    /// <summary>Append the opening of the assistant's turn (<c>add_generation_prompt</c>). Default true.</summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>The model's BOS token text (<c>bos_token</c>), e.g. <c>&lt;|begin_of_text|&gt;</c>; empty if none.</summary>
    public string BosToken { get; init; } = "";

    /// <summary>The model's EOS token text (<c>eos_token</c>); empty if none.</summary>
    public string EosToken { get; init; } = "";

    /// <summary>Tools in OpenAI's shape (<c>{"type":"function","function":{"name",…,"parameters":{…}}}</c>); null for none.</summary>
    public IReadOnlyList<JsonElement>? Tools { get; init; }

    /// <summary>
    /// More template variables (<c>chat_template_kwargs</c>), e.g. <c>date_string</c> or <c>tools_in_user_message</c>.
    /// Values: null, bool, numbers, strings, <see cref="JsonElement"/>, lists and string-keyed dictionaries of those.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? ExtraVariables { get; init; }

    /// <summary>The clock behind <c>strftime_now</c>; local time by default, as transformers uses.</summary>
    public Func<DateTime>? Now { get; init; }

    /// <summary>What this render may spend; null: the limits the template was parsed with.</summary>
    public ChatTemplateLimits? Limits { get; init; }
}
