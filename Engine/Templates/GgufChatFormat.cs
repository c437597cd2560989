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

    /// <summary>Reads the chat format from a GGUF file's metadata.</summary>
    /// <param name="metadata">The file's metadata.</param>
    /// <exception cref="TemplateSyntaxException">The file's template is not valid Jinja.</exception>
    public static GgufChatFormat FromMetadata(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ChatTemplate template = ChatTemplate.FromModel(metadata.GetString(ChatTemplateKey));
        string[]? tokens = metadata.GetStringArray("tokenizer.ggml.tokens");
        return new GgufChatFormat(template, TokenText(metadata, tokens, "tokenizer.ggml.bos_token_id"),
            TokenText(metadata, tokens, "tokenizer.ggml.eos_token_id"));
    }

    /// <summary>Render options carrying this model's BOS/EOS texts.</summary>
    /// <param name="addGenerationPrompt">Whether to open the assistant's turn.</param>
    /// <param name="tools">OpenAI-shaped tool definitions for the template to render, if any.</param>
    public ChatTemplateRenderOptions RenderOptions(bool addGenerationPrompt = true, IReadOnlyList<System.Text.Json.JsonElement>? tools = null) =>
        new() { AddGenerationPrompt = addGenerationPrompt, BosToken = BosToken, EosToken = EosToken, Tools = tools };

    private static string TokenText(GgufMetadata metadata, string[]? tokens, string key)
    {
        if (tokens is null || !metadata.ContainsKey(key))
            return "";
        long id = metadata.GetInt64(key);
        return id >= 0 && id < tokens.Length ? tokens[id] : "";
    }
}
