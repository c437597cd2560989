namespace Fathom.Engine.Tokenization;

/// <summary>
/// The tokenizer files of a Hugging Face model directory, read together: <c>tokenizer.json</c> (required),
/// <c>tokenizer_config.json</c>, <c>chat_template.jinja</c> and <c>generation_config.json</c> (each optional).
/// The tokenizer's BOS/EOS ids and add-BOS/EOS flags follow what <c>transformers</c> would do with the same files:
/// <c>tokenizer_config.json</c> first, then <c>tokenizer.json</c>'s post-processor, then <c>generation_config.json</c>.
/// </summary>
public sealed class HuggingFaceTokenizerFiles
{
    /// <summary>The chat template file newer <c>transformers</c> versions write beside <c>tokenizer_config.json</c>.</summary>
    public const string ChatTemplateFileName = "chat_template.jinja";

    private HuggingFaceTokenizerFiles(
        string directory, Tokenizer tokenizer, HuggingFaceTokenizerConfig config, HuggingFaceGenerationConfig generation, string? chatTemplate)
    {
        Directory = directory;
        Tokenizer = tokenizer;
        Config = config;
        Generation = generation;
        ChatTemplate = chatTemplate;
    }

    /// <summary>The directory the files were read from.</summary>
    public string Directory { get; }

    /// <summary>The tokenizer, with BOS/EOS and end-of-generation ids from all the files.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary><c>tokenizer_config.json</c> (all null when the file is absent).</summary>
    public HuggingFaceTokenizerConfig Config { get; }

    /// <summary><c>generation_config.json</c>: default sampling settings and EOS ids (all null/empty when absent).</summary>
    public HuggingFaceGenerationConfig Generation { get; }

    /// <summary>The default chat template's Jinja source: <c>chat_template.jinja</c>, else <c>tokenizer_config.json</c>'s; null when neither has one.</summary>
    public string? ChatTemplate { get; }

    /// <summary>Named chat templates from <c>tokenizer_config.json</c> (e.g. <c>tool_use</c>); empty when it has a single one.</summary>
    public IReadOnlyDictionary<string, string> NamedChatTemplates => Config.NamedChatTemplates;

    /// <summary>The BOS token's text, for chat templates' <c>bos_token</c>: tokenizer_config.json's, else the tokenizer's BOS; empty when there is none.</summary>
    public string BosToken => Config.BosToken ?? (Tokenizer.BosId is { } id ? Tokenizer.GetText(id) : "");

    /// <summary>The EOS token's text, for chat templates' <c>eos_token</c>: tokenizer_config.json's, else the tokenizer's EOS; empty when there is none.</summary>
    public string EosToken => Config.EosToken ?? (Tokenizer.EosId is { } id ? Tokenizer.GetText(id) : "");

    /// <summary>Whether <paramref name="directory"/> holds a <c>tokenizer.json</c>.</summary>
    public static bool Exist(string directory) =>
        !string.IsNullOrEmpty(directory) && File.Exists(Path.Combine(directory, HuggingFaceTokenizerJson.FileName));

    /// <summary>Reads the tokenizer files in <paramref name="directory"/>.</summary>
    /// <exception cref="TokenizerException">
    /// <c>tokenizer.json</c> is missing, or a file is malformed, uses an unsupported feature, or names a token the
    /// vocabulary does not have; the message names the file and the field.
    /// </exception>
    public static HuggingFaceTokenizerFiles Load(string directory) => Load(directory, []);

    /// <summary>
    /// Reads the tokenizer files in <paramref name="directory"/>; <paramref name="modelEosTokenIds"/> (a model's
    /// <c>config.json</c> <c>eos_token_id</c>, which <c>transformers</c>' <c>generate</c> also stops on when
    /// <c>generation_config.json</c> is absent) end generation too, where the vocabulary has them.
    /// </summary>
    /// <exception cref="TokenizerException">
    /// <c>tokenizer.json</c> is missing, or a file is malformed, uses an unsupported feature, or names a token the
    /// vocabulary does not have; the message names the file and the field.
    /// </exception>
    public static HuggingFaceTokenizerFiles Load(string directory, IReadOnlyList<int> modelEosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(modelEosTokenIds);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new TokenizerException($"{directory}: is not a directory");
        }
        var tokenizerPath = Path.Combine(directory, HuggingFaceTokenizerJson.FileName);
        if (!File.Exists(tokenizerPath))
        {
            throw new TokenizerException($"{tokenizerPath}: is missing; a Hugging Face model directory needs {HuggingFaceTokenizerJson.FileName}");
        }
        var configPath = Path.Combine(directory, HuggingFaceTokenizerConfig.FileName);
        var config = File.Exists(configPath) ? HuggingFaceTokenizerConfig.Read(configPath) : new HuggingFaceTokenizerConfig();
        var generationPath = Path.Combine(directory, HuggingFaceGenerationConfig.FileName);
        var generation = File.Exists(generationPath) ? HuggingFaceGenerationConfig.Read(generationPath) : new HuggingFaceGenerationConfig();
        var templatePath = Path.Combine(directory, ChatTemplateFileName);
        var template = File.Exists(templatePath) ? ReadText(templatePath) : config.ChatTemplate;

        var vocabulary = HuggingFaceTokenizerJson.Read(tokenizerPath);
        vocabulary = Apply(vocabulary, config, configPath, generation, generationPath);
        var count = vocabulary.Tokens.Count;
        var extra = modelEosTokenIds.Where(id => id >= 0 && id < count && !(vocabulary.EndOfGenerationIds ?? []).Contains(id)).ToArray();
        if (extra.Length > 0)
        {
            vocabulary = vocabulary with { EndOfGenerationIds = [.. vocabulary.EndOfGenerationIds ?? [], .. extra] };
        }
        return new HuggingFaceTokenizerFiles(directory, Tokenizer.Create(vocabulary), config, generation, template);
    }

    /// <summary>
    /// <paramref name="vocabulary"/> (from <c>tokenizer.json</c>) with the BOS/EOS settings of the other two files;
    /// <paramref name="configSource"/> and <paramref name="generationSource"/> name them in errors.
    /// </summary>
    /// <exception cref="TokenizerException">A file names a token or id the vocabulary does not have.</exception>
    public static TokenizerVocabulary Apply(
        TokenizerVocabulary vocabulary, HuggingFaceTokenizerConfig config, string configSource,
        HuggingFaceGenerationConfig generation, string generationSource)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(generation);
        var count = vocabulary.Tokens.Count;
        foreach (var (id, index) in generation.EosTokenIds.Select((id, i) => (id, i)))
        {
            if (id >= count)
            {
                throw new TokenizerException($"{generationSource}: eos_token_id[{index}] is {id}, outside the vocabulary of {count} tokens");
            }
        }
        if (generation.BosTokenId is { } bos && bos >= count)
        {
            throw new TokenizerException($"{generationSource}: bos_token_id is {bos}, outside the vocabulary of {count} tokens");
        }

        // The post-processor decides which token is added unless tokenizer_config.json turns adding on or off itself,
        // as transformers then rebuilds the post-processor from bos_token/eos_token.
        var configBos = Find(vocabulary, config.BosToken, configSource, "bos_token");
        var configEos = Find(vocabulary, config.EosToken, configSource, "eos_token");
        var bosId = (config.AddBosToken is null ? Named(vocabulary.BosId) : null) ?? configBos ?? Named(vocabulary.BosId) ?? generation.BosTokenId;
        var eosId = (config.AddEosToken is null ? Named(vocabulary.EosId) : null) ?? configEos ?? Named(vocabulary.EosId)
            ?? (generation.EosTokenIds.Count > 0 ? generation.EosTokenIds[0] : null);
        var addBos = config.AddBosToken ?? vocabulary.AddBos ?? false;
        var addEos = config.AddEosToken ?? vocabulary.AddEos ?? false;
        if (addBos && bosId is null)
        {
            throw new TokenizerException($"{configSource}: add_bos_token is true, but no BOS token is named (bos_token, or tokenizer.json's post_processor)");
        }
        if (addEos && eosId is null)
        {
            throw new TokenizerException($"{configSource}: add_eos_token is true, but no EOS token is named (eos_token, or tokenizer.json's post_processor)");
        }

        var endOfGeneration = (vocabulary.EndOfGenerationIds ?? []).Concat(generation.EosTokenIds)
            .Concat(configEos is { } named ? [named] : []).Distinct().ToArray();
        return vocabulary with
        {
            BosId = bosId ?? TokenizerVocabulary.NoToken,
            EosId = eosId ?? TokenizerVocabulary.NoToken,
            AddBos = addBos,
            AddEos = addEos,
            UnknownId = Find(vocabulary, config.UnknownToken, configSource, "unk_token") ?? vocabulary.UnknownId,
            PaddingId = Find(vocabulary, config.PadToken, configSource, "pad_token") ?? vocabulary.PaddingId ?? generation.PadTokenId,
            CleanSpaces = config.CleanUpTokenizationSpaces ?? vocabulary.CleanSpaces,
            EndOfGenerationIds = endOfGeneration.Length > 0 ? endOfGeneration : null,
        };
    }

    private static int? Named(int? id) => id is >= 0 ? id : null;

    private static int? Find(TokenizerVocabulary vocabulary, string? text, string source, string field)
    {
        if (text is null)
        {
            return null;
        }
        var tokens = vocabulary.Tokens;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (string.Equals(tokens[i], text, StringComparison.Ordinal))
            {
                return i;
            }
        }
        throw new TokenizerException($"{source}: {field} '{text}' is not a token of the vocabulary");
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"{path}: cannot be read: {e.Message}", e);
        }
    }
}
