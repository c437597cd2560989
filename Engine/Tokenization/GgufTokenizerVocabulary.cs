using Fathom.Gguf;

namespace Fathom.Engine.Tokenization;

/// <summary>Reads a <see cref="TokenizerVocabulary"/> from the <c>tokenizer.ggml.*</c> keys of GGUF metadata.</summary>
public static class GgufTokenizerVocabulary
{
    /// <summary>The vocabulary stored in <paramref name="metadata"/>.</summary>
    /// <exception cref="TokenizerException">The tokenizer keys are missing or have the wrong types.</exception>
    public static TokenizerVocabulary Read(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var source = metadata.FilePath ?? "GGUF metadata";
        try
        {
            var model = metadata.GetString("tokenizer.ggml.model")
                ?? throw new TokenizerException($"{source}: no tokenizer (tokenizer.ggml.model is missing)");
            var tokens = metadata.GetStringArray("tokenizer.ggml.tokens")
                ?? throw new TokenizerException($"{source}: tokenizer.ggml.tokens is missing");
            return new TokenizerVocabulary
            {
                Model = model,
                Pre = metadata.GetString("tokenizer.ggml.pre"),
                Tokens = tokens,
                Scores = Scores(metadata),
                TokenTypes = metadata.GetInt32Array("tokenizer.ggml.token_type"),
                Merges = metadata.GetStringArray("tokenizer.ggml.merges"),
                BosId = Id(metadata, "tokenizer.ggml.bos_token_id"),
                EosId = Id(metadata, "tokenizer.ggml.eos_token_id"),
                EotId = Id(metadata, "tokenizer.ggml.eot_token_id"),
                EomId = Id(metadata, "tokenizer.ggml.eom_token_id"),
                UnknownId = Id(metadata, "tokenizer.ggml.unknown_token_id"),
                PaddingId = Id(metadata, "tokenizer.ggml.padding_token_id"),
                AddBos = Flag(metadata, "tokenizer.ggml.add_bos_token"),
                AddEos = Flag(metadata, "tokenizer.ggml.add_eos_token"),
                AddSpacePrefix = Flag(metadata, "tokenizer.ggml.add_space_prefix"),
            };
        }
        catch (GgufFormatException e)
        {
            throw new TokenizerException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Opens a GGUF file, reads its vocabulary and builds the tokenizer.</summary>
    /// <exception cref="GgufFormatException">The file is not valid GGUF.</exception>
    /// <exception cref="TokenizerException">The file's vocabulary cannot be used.</exception>
    public static Tokenizer CreateTokenizer(string path)
    {
        using var file = GgufFile.Open(path);
        return Tokenizer.Create(Read(file.Metadata));
    }

    /// <summary>
    /// Adds <paramref name="vocabulary"/> to <paramref name="writer"/> as <c>tokenizer.ggml.*</c> keys (what
    /// <see cref="Read"/> reads back). A <c>gpt2</c> vocabulary needs merges for llama.cpp to load it; see
    /// <see cref="Llama3Vocabulary.DeriveMerges"/> for a tiktoken vocabulary.
    /// </summary>
    public static void Write(GgufWriter writer, TokenizerVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(vocabulary);
        writer.AddMetadata("tokenizer.ggml.model", vocabulary.Model);
        if (vocabulary.Pre is { } pre)
        {
            writer.AddMetadata("tokenizer.ggml.pre", pre);
        }
        writer.AddMetadata("tokenizer.ggml.tokens", vocabulary.Tokens.ToArray());
        if (vocabulary.Scores is { } scores)
        {
            writer.AddMetadata("tokenizer.ggml.scores", scores.ToArray());
        }
        if (vocabulary.TokenTypes is { } types)
        {
            writer.AddMetadata("tokenizer.ggml.token_type", types.ToArray());
        }
        if (vocabulary.Merges is { } merges)
        {
            writer.AddMetadata("tokenizer.ggml.merges", merges.ToArray());
        }
        AddId(writer, "tokenizer.ggml.bos_token_id", vocabulary.BosId);
        AddId(writer, "tokenizer.ggml.eos_token_id", vocabulary.EosId);
        AddId(writer, "tokenizer.ggml.eot_token_id", vocabulary.EotId);
        AddId(writer, "tokenizer.ggml.eom_token_id", vocabulary.EomId);
        AddId(writer, "tokenizer.ggml.unknown_token_id", vocabulary.UnknownId);
        AddId(writer, "tokenizer.ggml.padding_token_id", vocabulary.PaddingId);
        AddFlag(writer, "tokenizer.ggml.add_bos_token", vocabulary.AddBos);
        AddFlag(writer, "tokenizer.ggml.add_eos_token", vocabulary.AddEos);
        AddFlag(writer, "tokenizer.ggml.add_space_prefix", vocabulary.AddSpacePrefix);
    }

    private static void AddId(GgufWriter writer, string key, int? id)
    {
        if (id is { } value)
        {
            writer.AddMetadata(key, (uint)value);
        }
    }

    private static void AddFlag(GgufWriter writer, string key, bool? flag)
    {
        if (flag is { } value)
        {
            writer.AddMetadata(key, value);
        }
    }

    private static float[]? Scores(GgufMetadata metadata)
    {
        if (!metadata.TryGetValue("tokenizer.ggml.scores", out var value))
        {
            return null;
        }
        return value.ElementType is GgufValueType.Float32 or GgufValueType.Float64
            ? value.AsFloat32Array()
            : Array.ConvertAll(value.AsInt32Array(), v => (float)v);
    }

    // An id key that is absent or out of range (e.g. 4294967295 for "none") gives null: the model's default applies.
    private static int? Id(GgufMetadata metadata, string key)
    {
        if (!metadata.TryGetValue(key, out var value))
        {
            return null;
        }
        long id;
        try
        {
            id = value.AsInt64();
        }
        catch (InvalidCastException e)
        {
            throw new TokenizerException($"{metadata.FilePath ?? "GGUF metadata"}: {key} is not an integer", e);
        }
        return id is >= 0 and <= int.MaxValue ? (int)id : null;
    }

    private static bool? Flag(GgufMetadata metadata, string key) =>
        metadata.ContainsKey(key) ? metadata.GetBool(key) : null;
}
