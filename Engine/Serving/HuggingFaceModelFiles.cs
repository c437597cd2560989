using System.Text.Json;
using Fathom.Engine.Model;
using Fathom.Engine.Templates;
using Fathom.Engine.Tokenization;
using Fathom.Safetensors;

namespace Fathom.Engine.Serving;

/// <summary>
/// The tokenizer, chat format and sampling defaults of a Hugging Face model directory: <c>tokenizer.json</c>, with
/// BOS/EOS and <c>add_bos_token</c> from <c>tokenizer_config.json</c> and <c>config.json</c>, the chat template from
/// <c>chat_template.jinja</c> or <c>tokenizer_config.json</c>, and <c>generation_config.json</c>'s temperature/top_p.
/// The one place that reads these files for serving.
/// </summary>
/// <remarks>
/// tokenizer_config.json and generation_config.json are read minimally here (bos_token, eos_token, add_bos_token,
/// chat_template; temperature, top_p, top_k); the complete readers in Engine/Tokenization replace these when they land.
/// </remarks>
public static class HuggingFaceModelFiles
{
    /// <summary>The tokenizer file of a model directory.</summary>
    public const string TokenizerFileName = "tokenizer.json";

    /// <summary>The tokenizer settings file of a model directory.</summary>
    public const string TokenizerConfigFileName = "tokenizer_config.json";

    /// <summary>The sampling defaults file of a model directory.</summary>
    public const string GenerationConfigFileName = "generation_config.json";

    /// <summary>The tokenizer of <paramref name="model"/>: its GGUF vocabulary, or its directory's <c>tokenizer.json</c>.</summary>
    /// <exception cref="TokenizerException">The vocabulary cannot be used.</exception>
    /// <exception cref="ModelLoadException">The directory has no tokenizer.json.</exception>
    public static Tokenizer CreateTokenizer(LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.File is { } file ? Tokenizer.Create(GgufTokenizerVocabulary.Read(file.Metadata)) : CreateTokenizer(model.Path);
    }

    /// <summary>The tokenizer of the model directory <paramref name="directory"/>.</summary>
    /// <exception cref="TokenizerException">tokenizer.json cannot be used, or tokenizer_config.json names a BOS/EOS it does not have.</exception>
    /// <exception cref="ModelLoadException">The directory has no tokenizer.json.</exception>
    public static Tokenizer CreateTokenizer(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var path = Path.Combine(directory, TokenizerFileName);
        if (!File.Exists(path))
        {
            throw new ModelLoadException(directory, $"the model directory has no {TokenizerFileName}");
        }

        var vocabulary = HuggingFaceTokenizerJson.Read(path);
        var settings = ReadTokenizerConfig(directory);
        var ids = vocabulary.Tokens.Select((text, id) => (text, id)).GroupBy(p => p.text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().id, StringComparer.Ordinal);
        int? Id(string? text, string field) => text is null ? null
            : ids.TryGetValue(text, out var id) ? id
            : throw new TokenizerException($"{Path.Combine(directory, TokenizerConfigFileName)}: {field} '{text}' is not a token of {TokenizerFileName}");

        var bos = Id(settings.Bos, "bos_token");
        var eosIds = new List<int>();
        if (Id(settings.Eos, "eos_token") is { } eos)
        {
            eosIds.Add(eos);
        }

        // config.json's eos_token_id may list several (Llama 3.1: end of text, end of message, end of turn).
        var configPath = Path.Combine(directory, HuggingFaceConfig.FileName);
        if (File.Exists(configPath))
        {
            var config = HuggingFaceConfig.Read(directory);
            bos ??= config.BosTokenId is { } b && b < vocabulary.Tokens.Count ? b : null;
            eosIds.AddRange(config.EosTokenIds.Where(id => id < vocabulary.Tokens.Count && !eosIds.Contains(id)));
        }

        return Tokenizer.Create(vocabulary with
        {
            BosId = bos,
            EosId = eosIds.Count > 0 ? eosIds[0] : null,
            EotId = eosIds.Count > 1 ? eosIds[^1] : null,
            EomId = eosIds.Count > 2 ? eosIds[1] : null,
            AddBos = bos is not null && (settings.AddBos ?? true),
        });
    }

    /// <summary>The chat format of a model directory: its template (or <paramref name="templateOverride"/>), verified, and the BOS/EOS texts.</summary>
    /// <exception cref="ChatTemplateException">The template is not valid or cannot render a conversation.</exception>
    public static GgufChatFormat ReadChatFormat(string directory, Tokenizer tokenizer, ChatTemplate? templateOverride = null, ChatTemplateLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var template = templateOverride;
        if (template is null)
        {
            var jinja = Path.Combine(directory, "chat_template.jinja");
            var config = Path.Combine(directory, TokenizerConfigFileName);
            string? source = File.Exists(jinja) ? ChatTemplateFile.ReadSource(jinja)
                : File.Exists(config) && HasChatTemplate(config) ? ChatTemplateFile.ReadSource(config)
                : null;
            template = ChatTemplate.FromModel(source, limits);
        }

        var format = new GgufChatFormat(template,
            tokenizer.BosId is { } bos ? tokenizer.GetText(bos) : "",
            tokenizer.EosId is { } eos ? tokenizer.GetText(eos) : "");
        format.Verify();
        return format;
    }

    /// <summary><c>generation_config.json</c>'s sampling defaults, or null when the directory has none.</summary>
    /// <exception cref="ModelLoadException">The file is not valid JSON or a value has the wrong type.</exception>
    public static GenerationDefaults? ReadGenerationDefaults(string directory)
    {
        var path = Path.Combine(directory, GenerationConfigFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            float? Number(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null
                ? v.ValueKind == JsonValueKind.Number ? v.GetSingle() : throw new ModelLoadException(path, $"{key}: {v.GetRawText()} is not a number")
                : null;
            var sample = !root.TryGetProperty("do_sample", out var doSample) || doSample.ValueKind != JsonValueKind.False;
            var topK = Number("top_k");
            return new GenerationDefaults(sample ? Number("temperature") : 0f, sample ? Number("top_p") : null, topK is { } k ? (int)k : null);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"not valid JSON: {e.Message}", e);
        }
    }

    private static bool HasChatTemplate(string tokenizerConfig)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(tokenizerConfig));
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("chat_template", out _);
        }
        catch (JsonException)
        {
            return true; // ChatTemplateFile.ReadSource reports it, naming the file
        }
    }

    private static (string? Bos, string? Eos, bool? AddBos) ReadTokenizerConfig(string directory)
    {
        var path = Path.Combine(directory, TokenizerConfigFileName);
        if (!File.Exists(path))
        {
            return (null, null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerException($"{path}: must be a JSON object");
            }

            // A special token is written as its text or as an AddedToken object with "content".
            string? Token(string key) => !root.TryGetProperty(key, out var v) ? null : v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                JsonValueKind.Null => null,
                _ => throw new TokenizerException($"{path}: {key} {v.GetRawText()} is not a token text"),
            };
            bool? addBos = root.TryGetProperty("add_bos_token", out var a) ? a.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new TokenizerException($"{path}: add_bos_token {a.GetRawText()} is not true or false"),
            } : null;
            return (Token("bos_token"), Token("eos_token"), addBos);
        }
        catch (JsonException e)
        {
            throw new TokenizerException($"{path}: not valid JSON: {e.Message}", e);
        }
    }
}
