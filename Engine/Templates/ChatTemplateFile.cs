using System.Text;
using System.Text.Json;

namespace Fathom.Engine.Templates;

/// <summary>
/// Reads a chat template the operator gives instead of the model's own (<c>--chat-template FILE</c>): a Jinja text
/// file, or a Hugging Face <c>tokenizer_config.json</c> whose <c>chat_template</c> holds it.
/// </summary>
public static class ChatTemplateFile
{
    /// <summary>
    /// The largest file accepted: 1 MiB. Real chat templates are a few kilobytes (the largest in the test corpus is
    /// under 20 KB), so a bigger file is the wrong file, not a template.
    /// </summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>Reads the template text from <paramref name="path"/>.</summary>
    /// <param name="path">A <c>.jinja</c> (any text) file, or a <c>.json</c> file with a <c>chat_template</c> string
    /// (or the list of named templates transformers writes, of which <c>default</c> is taken).</param>
    /// <exception cref="ChatTemplateException">The file is missing, unreadable, too large, not UTF-8, empty, or a JSON file without a template.</exception>
    public static string ReadSource(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new ChatTemplateException($"The chat template file '{path}' does not exist.");
            if (info.Length > MaxFileBytes)
                throw new ChatTemplateException($"The chat template file '{path}' is {info.Length} bytes; a template may have at most {MaxFileBytes}.");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ChatTemplateException($"The chat template file '{path}' cannot be read: {e.Message}", e);
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new ChatTemplateException($"The chat template file '{path}' is not UTF-8 text.", e);
        }

        // A byte-order mark is an editor's artefact, not template text (it would be printed before the BOS token).
        text = text.TrimStart('\uFEFF');
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            text = FromTokenizerConfig(path, text);
        if (string.IsNullOrWhiteSpace(text))
            throw new ChatTemplateException($"The chat template file '{path}' is empty.");
        return text;
    }

    /// <summary>Reads and parses the template at <paramref name="path"/>.</summary>
    /// <exception cref="ChatTemplateException">The file cannot be read (see <see cref="ReadSource"/>) or is not valid Jinja.</exception>
    public static ChatTemplate Load(string path, ChatTemplateLimits? limits = null)
    {
        string source = ReadSource(path);
        try
        {
            return ChatTemplate.Parse(source, limits);
        }
        catch (ChatTemplateException e)
        {
            throw new ChatTemplateException($"The chat template file '{path}' is not a valid template: {e.Message}", e);
        }
    }

    private static string FromTokenizerConfig(string path, string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("chat_template", out JsonElement template))
            {
                if (template.ValueKind == JsonValueKind.String)
                    return template.GetString()!;
                if (template.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement named in template.EnumerateArray())
                    {
                        if (named.ValueKind == JsonValueKind.Object && named.TryGetProperty("name", out JsonElement name)
                            && name.ValueKind == JsonValueKind.String && name.GetString() == "default"
                            && named.TryGetProperty("template", out JsonElement text) && text.ValueKind == JsonValueKind.String)
                        {
                            return text.GetString()!;
                        }
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw new ChatTemplateException($"The chat template file '{path}' is not valid JSON: {e.Message}", e);
        }

        throw new ChatTemplateException($"The JSON file '{path}' has no \"chat_template\" string (nor a \"default\" entry in a list of templates).");
    }
}
