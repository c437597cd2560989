using Fathom.Gguf;

namespace Fathom.Engine.Templates;

/// <summary>What a GGUF file says about chatting with its model: the chat template and the BOS/EOS token texts.</summary>
/// <param name="Template">The file's <c>tokenizer.chat_template</c>, or the ChatML fallback when it has none.</param>
/// <param name="BosToken">The text of <c>tokenizer.ggml.bos_token_id</c>'s token, or empty.</param>
/// <param name="EosToken">The text of <c>tokenizer.ggml.eos_token_id</c>'s token, or empty.</param>
public sealed record GgufChatFormat(ChatTemplate Template, string BosToken, string EosToken)
{
    /// <summary>The GGUF key that holds the Jinja chat template.</summary>
    public const string ChatTemplateKey = "tokenizer.chat_template";

    /// <summary>
    /// The conversation <see cref="Verify"/> renders: two user turns with an assistant reply between them, the shape
    /// of every second request of a chat, which any template that can serve a chat must render.
    /// </summary>
    public static IReadOnlyList<ChatMessage> CannedConversation { get; } =
    [
        new ChatMessage("user", "Hello! Who are you?"),
        new ChatMessage("assistant", "I am a helpful assistant."),
        new ChatMessage("user", "Tell me a joke."),
    ];

    /// <summary>
    /// Reads the chat format from a GGUF file's metadata and <see cref="Verify"/>s it, so that a model whose
    /// template cannot serve a chat fails to load with the reason instead of failing every request.
    /// </summary>
    /// <param name="metadata">The file's metadata.</param>
    /// <param name="limits">What the template may spend per render; <see cref="ChatTemplateLimits.Default"/> if null.</param>
    /// <param name="templateOverride">A template that replaces the file's own (<c>--chat-template</c>); null: the file's.</param>
    /// <exception cref="TemplateSyntaxException">The file's template is not valid Jinja.</exception>
    /// <exception cref="ChatTemplateException">The template cannot render <see cref="CannedConversation"/>.</exception>
    public static GgufChatFormat FromMetadata(GgufMetadata metadata, ChatTemplateLimits? limits = null, ChatTemplate? templateOverride = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ChatTemplate template = templateOverride ?? ChatTemplate.FromModel(metadata.GetString(ChatTemplateKey), limits);
        string[]? tokens = metadata.GetStringArray("tokenizer.ggml.tokens");
        var format = new GgufChatFormat(template, TokenText(metadata, tokens, "tokenizer.ggml.bos_token_id"),
            TokenText(metadata, tokens, "tokenizer.ggml.eos_token_id"))
        {
            VocabularyFamily = FamilyOfVocabulary(tokens),
        };
        format.Verify();
        return format;
    }

    /// <summary>
    /// Renders <see cref="CannedConversation"/> with a generation prompt and checks that the prompt holds the last
    /// user message. Throws <see cref="ChatTemplateException"/> saying why the template cannot serve a chat.
    /// </summary>
    /// <exception cref="ChatTemplateException">The template fails, crosses a limit, or drops the user's message.</exception>
    public void Verify()
    {
        string prompt;
        try
        {
            prompt = Template.Render(CannedConversation, RenderOptions());
        }
        catch (ChatTemplateException e)
        {
            throw new ChatTemplateException(
                $"The model's chat template cannot render a two-turn conversation (user, assistant, user): {e.Message}", e);
        }

        string last = CannedConversation[^1].Content!;
        if (!prompt.Contains(last, StringComparison.Ordinal))
        {
            throw new ChatTemplateException(
                $"The model's chat template renders a two-turn conversation (user, assistant, user) without the last user message \"{last}\".");
        }
    }

    /// <summary>
    /// The family the vocabulary's special tokens show (DeepSeek-R1's <c>&lt;｜User｜&gt;</c>, <c>&lt;｜Assistant｜&gt;</c>
    /// and <c>&lt;｜tool▁calls▁begin｜&gt;</c>), for a model whose template says nothing (none, or an unknown one).
    /// </summary>
    public ChatTemplateFamily VocabularyFamily { get; init; }

    /// <summary>The model's family: its template's when recognised, else its vocabulary's.</summary>
    public ChatTemplateFamily Family =>
        Template.Family != ChatTemplateFamily.Unknown && !Template.IsFallback ? Template.Family : VocabularyFamily;

    /// <summary>
    /// The template that renders a request with tools: the model's own when it reads <c>tools</c>, else the bundled
    /// tool-capable template of its <see cref="Family"/> (<see cref="BundledChatTemplates.ForTools"/>).
    /// </summary>
    /// <exception cref="ToolsNotRenderedException">Neither exists: tools would be dropped.</exception>
    public ChatTemplate TemplateForTools() =>
        Template.RendersTools ? Template : BundledChatTemplates.ForTools(Family) ?? throw new ToolsNotRenderedException();

    /// <summary>Render options carrying this model's BOS/EOS texts.</summary>
    /// <param name="addGenerationPrompt">Whether to open the assistant's turn.</param>
    /// <param name="tools">OpenAI-shaped tool definitions for the template to render, if any.</param>
    /// <param name="extraVariables">More template variables (<c>chat_template_kwargs</c>), if any.</param>
    public ChatTemplateRenderOptions RenderOptions(bool addGenerationPrompt = true, IReadOnlyList<System.Text.Json.JsonElement>? tools = null,
        IReadOnlyDictionary<string, object?>? extraVariables = null) =>
        new() { AddGenerationPrompt = addGenerationPrompt, BosToken = BosToken, EosToken = EosToken, Tools = tools, ExtraVariables = extraVariables };

    private static ChatTemplateFamily FamilyOfVocabulary(string[]? tokens)
    {
        if (tokens is null)
            return ChatTemplateFamily.Unknown;
        bool user = false, assistant = false, calls = false;
        foreach (string token in tokens)
        {
            user |= token == "<｜User｜>";
            assistant |= token == "<｜Assistant｜>";
            calls |= token == "<｜tool▁calls▁begin｜>";
        }

        return user && assistant && calls ? ChatTemplateFamily.DeepSeekR1 : ChatTemplateFamily.Unknown;
    }

    private static string TokenText(GgufMetadata metadata, string[]? tokens, string key)
    {
        if (tokens is null || !metadata.ContainsKey(key))
            return "";
        long id = metadata.GetInt64(key);
        return id >= 0 && id < tokens.Length ? tokens[id] : "";
    }
}
