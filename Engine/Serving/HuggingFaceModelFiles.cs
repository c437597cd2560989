using Fathom.Engine.Model;
using Fathom.Engine.Templates;
using Fathom.Engine.Tokenization;
using Fathom.Safetensors;

namespace Fathom.Engine.Serving;

/// <summary>
/// What serving takes from a Hugging Face model directory's tokenizer files: the tokenizer, the chat format and the
/// sampling defaults. The files are read once, by <see cref="HuggingFaceTokenizerFiles"/> (tokenizer.json,
/// tokenizer_config.json, chat_template.jinja, generation_config.json); config.json's <c>eos_token_id</c> ends
/// generation too.
/// </summary>
public static class HuggingFaceModelFiles
{
    /// <summary>The tokenizer of <paramref name="model"/>: its GGUF vocabulary, or its directory's tokenizer files.</summary>
    /// <exception cref="TokenizerException">The vocabulary cannot be used, or the directory has no tokenizer.json.</exception>
    public static Tokenizer CreateTokenizer(LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.File is { } file ? Tokenizer.Create(GgufTokenizerVocabulary.Read(file.Metadata)) : Load(model.Path).Tokenizer;
    }

    /// <summary>The tokenizer files of the model directory <paramref name="directory"/>, with config.json's EOS ids when it has a config.json.</summary>
    /// <exception cref="TokenizerException">A tokenizer file is missing, malformed, or names a token the vocabulary does not have.</exception>
    /// <exception cref="SafetensorsFormatException">config.json is malformed.</exception>
    public static HuggingFaceTokenizerFiles Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var eos = File.Exists(Path.Combine(directory, HuggingFaceConfig.FileName)) ? HuggingFaceConfig.Read(directory).EosTokenIds : [];
        return HuggingFaceTokenizerFiles.Load(directory, eos);
    }

    /// <summary>The chat format of a model directory: its template (or <paramref name="templateOverride"/>), verified, and the BOS/EOS texts.</summary>
    /// <exception cref="ChatTemplateException">The template is not valid or cannot render a conversation.</exception>
    public static GgufChatFormat ReadChatFormat(HuggingFaceTokenizerFiles files, ChatTemplate? templateOverride = null, ChatTemplateLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var format = new GgufChatFormat(templateOverride ?? ChatTemplate.FromModel(files.ChatTemplate, limits), files.BosToken, files.EosToken);
        format.Verify();
        return format;
    }

    /// <summary>
    /// generation_config.json's sampling defaults, or null when it sets none. <c>do_sample: false</c> means greedy
    /// (temperature 0, no top_p), as in <c>transformers</c>.
    /// </summary>
    public static GenerationDefaults? GenerationDefaults(HuggingFaceGenerationConfig generation)
    {
        ArgumentNullException.ThrowIfNull(generation);
        if (generation is { Temperature: null, TopP: null, TopK: null, DoSample: null })
        {
            return null;
        }

        var sample = generation.DoSample != false;
        return new GenerationDefaults(sample ? (float?)generation.Temperature : 0f, sample ? (float?)generation.TopP : null, generation.TopK);
    }
}
