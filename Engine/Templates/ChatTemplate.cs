using Fathom.Engine.Templates.Jinja;

namespace Fathom.Engine.Templates;

/// <summary>
/// A model's chat template (the GGUF's <c>tokenizer.chat_template</c>, Jinja), parsed once and rendered per request
/// exactly as transformers' <c>apply_chat_template</c> renders it with Python's jinja2
/// (<c>trim_blocks</c>, <c>lstrip_blocks</c>, <c>raise_exception</c>, <c>strftime_now</c>, transformers' <c>tojson</c>).
/// Thread-safe: rendering keeps no state in the instance.
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>
    /// The template used when a model has none: ChatML. It is what llama.cpp and transformers have used as their
    /// default, so clients and fine-tunes most often expect it, and its turn markers are unambiguous text even for a
    /// base model whose vocabulary lacks them. A plain "role: content" format was rejected because a user's text can
    /// imitate its turn boundaries. Stop string: <c>&lt;|im_end|&gt;</c> (see <see cref="StopStrings"/>).
    /// </summary>
    public const string FallbackSource =
        "{%- for message in messages %}"
        + "{{- '<|im_start|>' + message['role'] + '\\n' + (message['content'] if message['content'] is string else '') + '<|im_end|>\\n' }}"
        + "{%- endfor %}"
        + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    private readonly JinjaTemplate _template;
    private readonly bool _argumentsAsObject;

    private ChatTemplate(string source, bool isFallback, ChatTemplateLimits? limits)
    {
        _template = new JinjaTemplate(source, limits);
        Source = source;
        IsFallback = isFallback;
        Family = Detect(source);
        // transformers documents tool-call arguments as a dict (templates apply |tojson or |items to them);
        // templates that concatenate them as text (DeepSeek-R1) need the JSON string, as OpenAI sends it.
        _argumentsAsObject = !(source.Contains("['arguments'] +", StringComparison.Ordinal)
            || source.Contains("['arguments']+", StringComparison.Ordinal)
            || source.Contains(".arguments +", StringComparison.Ordinal));
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>The limits the template was parsed under, and that renders use unless their options carry others.</summary>
    public ChatTemplateLimits Limits => _template.Limits;

    /// <summary>True when the model had no template and <see cref="FallbackSource"/> is used.</summary>
    public bool IsFallback { get; }

    /// <summary>
    /// Whether the template can render tool definitions: it reads the <c>tools</c> variable somewhere. A template that
    /// never does (DeepSeek-R1's own, ChatML's fallback) would drop the tools of a request silently.
    /// </summary>
    public bool RendersTools => _template.Reads("tools");

    /// <summary>The recognised format, which decides <see cref="CreateReasoningParser"/> and <see cref="CreateToolCallParser"/>.</summary>
    public ChatTemplateFamily Family { get; }

    /// <summary>Texts that end the assistant's turn besides the model's EOS tokens (the fallback's <c>&lt;|im_end|&gt;</c>).</summary>
    public IReadOnlyList<string> StopStrings => IsFallback ? ["<|im_end|>"] : [];

    /// <summary>Parses a template. Throws <see cref="TemplateSyntaxException"/> when the text is not valid Jinja.</summary>
    /// <param name="source">The Jinja text.</param>
    /// <param name="limits">What parsing and rendering may spend; <see cref="ChatTemplateLimits.Default"/> if null.</param>
    /// <exception cref="ChatTemplateLimitException">The text nests deeper than <see cref="ChatTemplateLimits.MaxDepth"/>.</exception>
    public static ChatTemplate Parse(string source, ChatTemplateLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(source, isFallback: false, limits);
    }

    /// <summary>The template for a model: its own when present, else the ChatML fallback.</summary>
    /// <param name="source">The GGUF's <c>tokenizer.chat_template</c>, or null/empty when the file has none.</param>
    /// <param name="limits">What parsing and rendering may spend; <see cref="ChatTemplateLimits.Default"/> if null.</param>
    public static ChatTemplate FromModel(string? source, ChatTemplateLimits? limits = null) =>
        string.IsNullOrWhiteSpace(source)
            ? (limits is null ? Fallback : new ChatTemplate(FallbackSource, isFallback: true, limits))
            : new ChatTemplate(source, isFallback: false, limits);

    /// <summary>The ChatML fallback template.</summary>
    public static ChatTemplate Fallback { get; } = new(FallbackSource, isFallback: true, limits: null);

    /// <summary>Renders the prompt text for <paramref name="messages"/>.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">Generation prompt, special tokens, tools and extra variables; defaults if null.</param>
    /// <exception cref="ChatTemplateException">The template raised an error or failed on these messages.</exception>
    /// <exception cref="ChatTemplateLimitException">The render crossed one of its limits (a kind of <see cref="ChatTemplateException"/>).</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatTemplateRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options ??= new ChatTemplateRenderOptions();
        return _template.Render(Variables(messages, options), options.Now, options.Limits);
    }

    /// <summary>The variables a render passes to the template, as Python values (the corpus tests hand them to jinja2).</summary>
    internal Dictionary<string, object?> Variables(IReadOnlyList<ChatMessage> messages, ChatTemplateRenderOptions options)
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (options.ExtraVariables is { } extra)
        {
            foreach (KeyValuePair<string, object?> pair in extra)
                variables[pair.Key] = TemplateValues.From(pair.Value);
        }

        variables["messages"] = messages.Select(m => (object?)TemplateValues.FromMessage(m, _argumentsAsObject)).ToList();
        variables["add_generation_prompt"] = options.AddGenerationPrompt;
        variables["bos_token"] = options.BosToken;
        variables["eos_token"] = options.EosToken;
        // transformers passes tools=None when there are none; templates test "tools is not none".
        variables["tools"] = options.Tools is { Count: > 0 } tools ? tools.Select(t => TemplateValues.From(t)).ToList() : null;
        return variables;
    }

    /// <summary>A reasoning parser for the format, or null when the format has no reasoning section.</summary>
    public Reasoning.IReasoningParser? CreateReasoningParser() =>
        Family == ChatTemplateFamily.DeepSeekR1 ? new Reasoning.DeepSeekR1ReasoningParser() : null;

    /// <summary>A tool-call parser for the format, or null when the format has no tool calls Fathom understands.</summary>
    /// <param name="idFactory">Makes tool-call ids; defaults to <c>chatcmpl-tool-</c> plus a random hex string, as vLLM does.</param>
    public Tools.IToolCallParser? CreateToolCallParser(Func<string>? idFactory = null) => Family switch
    {
        ChatTemplateFamily.Llama3Tools => new Tools.Llama3JsonToolCallParser(idFactory),
        ChatTemplateFamily.DeepSeekR1 => new Tools.DeepSeekToolCallParser(idFactory),
        _ => null,
    };

    /// <summary>Recognises a known format by the markers its template text contains.</summary>
    /// <param name="source">The template text.</param>
    public static ChatTemplateFamily Detect(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        bool Has(string marker) => source.Contains(marker, StringComparison.Ordinal);
        if (Has("<｜User｜>") && Has("<｜Assistant｜>"))
            return ChatTemplateFamily.DeepSeekR1;
        if (Has("<|start_header_id|>"))
            return Has("<|python_tag|>") || Has("ipython") || Has("\"parameters\"") ? ChatTemplateFamily.Llama3Tools : ChatTemplateFamily.Llama3;
        if (Has("<|im_start|>"))
            return ChatTemplateFamily.ChatML;
        if (Has("[INST]") && Has("<<SYS>>"))
            return ChatTemplateFamily.Llama2;
        return ChatTemplateFamily.Unknown;
    }
}
