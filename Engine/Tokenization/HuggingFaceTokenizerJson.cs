using System.Text.Json;
using static Fathom.Engine.Tokenization.HuggingFaceJson;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> (BPE model) into a <see cref="TokenizerVocabulary"/>: with a
/// <c>ByteLevel</c> pre-tokenizer it is a <c>gpt2</c> vocabulary and runs through the same merge loop and byte map as a
/// GGUF one; otherwise (Metaspace, or Llama 2's Replace/Prepend normalizers) a character-level <c>bpe</c> vocabulary
/// with byte fallback. Parts of the format that are not supported are rejected with a <see cref="TokenizerException"/>
/// naming the field rather than silently tokenizing differently.
/// </summary>
public static class HuggingFaceTokenizerJson
{
    /// <summary>The file name in a model directory.</summary>
    public const string FileName = "tokenizer.json";

    // The Split expressions of Llama 3 and Qwen 2 as tokenizer.json writes them; these map to llama.cpp's named
    // pre-tokenizers (Llama 3's has a faster hand-written splitter, and both avoid .NET's case-insensitive
    // matching of "(?i:'s)", which would also accept U+017F for 's').
    private const string Llama3Split =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string Qwen2Split =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Reads and builds the tokenizer in <paramref name="path"/>.</summary>
    /// <exception cref="TokenizerException">The file is malformed or uses a feature that is not supported.</exception>
    public static Tokenizer CreateTokenizer(string path) => Tokenizer.Create(Read(path));

    /// <summary>Reads the vocabulary in the <c>tokenizer.json</c> at <paramref name="path"/>.</summary>
    /// <exception cref="TokenizerException">The file is malformed or uses a feature that is not supported.</exception>
    public static TokenizerVocabulary Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(ReadFile(path), path);
    }

    /// <summary>Reads a vocabulary from the bytes of a <c>tokenizer.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="TokenizerException">The JSON is malformed or uses a feature that is not supported.</exception>
    public static TokenizerVocabulary Parse(ReadOnlySpan<byte> json, string source = FileName)
    {
        using var document = ParseObject(json, source);
        var root = document.RootElement;
        var model = Required(root, "model", JsonValueKind.Object, source);
        var type = Required(model, "type", JsonValueKind.String, source, "model.").GetString();
        if (type != "BPE")
        {
            throw Error(source, "model.type", $"is '{type}'; only BPE is supported");
        }
        if (Number(model, "dropout", source, "model.") is > 0)
        {
            throw Error(source, "model.dropout", "is set; BPE dropout (random merges) is not supported");
        }
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (String(model, affix, source, "model.") is { Length: > 0 })
            {
                throw Error(source, "model." + affix, "is set, which is not supported");
            }
        }

        var pre = HuggingFacePipelineJson.ReadPreTokenizer(root, source);
        var normalizer = HuggingFacePipelineJson.ReadNormalizer(Optional(root, "normalizer"), source, "normalizer");
        var byteFallback = Flag(model, "byte_fallback", source, "model.") == true;

        var texts = new Dictionary<int, string>();
        var types = new Dictionary<int, int>();
        foreach (var entry in Required(model, "vocab", JsonValueKind.Object, source, "model.").EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
            {
                throw Error(source, "model.vocab", $"'{entry.Name}' has no non-negative integer id");
            }
            texts[id] = entry.Name;
            if (byteFallback && !pre.ByteLevel && ByteTokens.TryParse(entry.Name, out _))
            {
                types[id] = (int)TokenType.Byte;
            }
        }
        var extra = ReadAddedTokens(root, texts, types, normalizer, source);

        var count = texts.Count == 0 ? 0 : texts.Keys.Max() + 1;
        if (count == 0)
        {
            throw Error(source, "model.vocab", "is empty");
        }
        var tokens = new string[count];
        var tokenTypes = new int[count];
        for (var i = 0; i < count; i++)
        {
            // An id that neither vocab nor added_tokens names still needs a row: an unused placeholder.
            tokens[i] = texts.TryGetValue(i, out var text) ? text : $"[PAD{i}]";
            tokenTypes[i] = types.TryGetValue(i, out var t) ? t : texts.ContainsKey(i) ? (int)TokenType.Normal : (int)TokenType.Unused;
        }

        int? unknownId = null;
        if (String(model, "unk_token", source, "model.") is { } unknown)
        {
            unknownId = Array.IndexOf(tokens, unknown) is >= 0 and var u ? u : throw Error(source, "model.unk_token", $"'{unknown}' is not in the vocabulary");
        }
        var post = HuggingFacePipelineJson.ReadPostProcessor(root, source);
        var decoder = HuggingFacePipelineJson.ReadDecoder(root, source, pre.ByteLevel);
        var ignoreMerges = Flag(model, "ignore_merges", source, "model.");
        var (named, patterns) = pre.ByteLevel ? NamedPre(pre, ignoreMerges == true) : (null, null);
        return new TokenizerVocabulary
        {
            Model = pre.ByteLevel ? "gpt2" : "bpe",
            Pre = named,
            PreTokenizerPatterns = patterns,
            Tokens = tokens,
            TokenTypes = tokenTypes,
            Merges = ReadMerges(model, source),
            IgnoreMerges = ignoreMerges ?? false,
            BosId = TokenId(post.Bos, post.BosId, tokens, source, "post_processor") ?? TokenizerVocabulary.NoToken,
            EosId = TokenId(post.Eos, post.EosId, tokens, source, "post_processor") ?? TokenizerVocabulary.NoToken,
            AddBos = post.Bos is not null,
            AddEos = post.Eos is not null,
            UnknownId = unknownId,
            Normalizer = normalizer,
            PrefixSpace = pre.PrefixSpace,
            Metaspace = pre.Metaspace,
            ByteFallback = byteFallback,
            FuseUnknown = Flag(model, "fuse_unk", source, "model.") ?? false,
            SpaceMarker = decoder.SpaceMarker ?? pre.Metaspace?.Replacement,
            AddSpacePrefix = decoder.StripLeadingSpace,
            // Hugging Face's decoders do not clean spaces; tokenizer_config.json's clean_up_tokenization_spaces may.
            CleanSpaces = false,
            ExtraAttributes = extra,
            ControlByText = false,
        };
    }

    // The Llama 3 and Qwen 2 expressions map to llama.cpp's named pre-tokenizers (Llama 3's has a faster hand-written
    // splitter), unless ByteLevel also adds a space before each word. Other expressions are compiled as they are; the name then only sets flavor defaults, which the
    // vocabulary's fields override.
    private static (string Pre, string[]? Patterns) NamedPre(HuggingFacePipelineJson.PreTokenizerSpec pre, bool ignoreMerges) => pre switch
    {
        { GptExpression: true } => ("gpt-2", null),
        { PrefixSpace: false, Patterns: [Llama3Split] } => ("llama-bpe", null),
        { PrefixSpace: false, Patterns: [Qwen2Split] } => ("qwen2", null),
        _ => (ignoreMerges ? "llama-bpe" : "qwen2", pre.Patterns),
    };

    private static int? TokenId(string? text, int? id, string[] tokens, string source, string field)
    {
        if (text is null)
        {
            return null;
        }
        var found = Array.IndexOf(tokens, text);
        if (found < 0 || (id is { } expected && expected != found))
        {
            throw Error(source, field, $"adds '{text}'{(id is { } i ? $" as id {i}" : "")}, which is not that token of the vocabulary");
        }
        return found;
    }

    private static Dictionary<int, TokenAttributes>? ReadAddedTokens(
        JsonElement root, Dictionary<int, string> texts, Dictionary<int, int> types, TextNormalizer? normalizer, string source)
    {
        var added = Optional(root, "added_tokens");
        if (added.ValueKind == JsonValueKind.Undefined)
        {
            return null;
        }
        if (added.ValueKind != JsonValueKind.Array)
        {
            throw Error(source, "added_tokens", "is not an array");
        }
        var extra = new Dictionary<int, TokenAttributes>();
        var index = 0;
        foreach (var token in added.EnumerateArray())
        {
            var field = $"added_tokens[{index++}].";
            if (token.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, field.TrimEnd('.'), "is not an object");
            }
            var idElement = Required(token, "id", JsonValueKind.Number, source, field);
            if (!idElement.TryGetInt32(out var id) || id < 0)
            {
                throw Error(source, field + "id", "is not a non-negative integer");
            }
            var content = Required(token, "content", JsonValueKind.String, source, field).GetString()!;
            if (content.Length == 0)
            {
                throw Error(source, field + "content", "is empty");
            }
            texts[id] = content;
            types[id] = Flag(token, "special", source, field) == true ? (int)TokenType.Control : (int)TokenType.UserDefined;

            var attributes = TokenAttributes.None;
            attributes |= Flag(token, "lstrip", source, field) == true ? TokenAttributes.StripLeft : 0;
            attributes |= Flag(token, "rstrip", source, field) == true ? TokenAttributes.StripRight : 0;
            attributes |= Flag(token, "single_word", source, field) == true ? TokenAttributes.SingleWord : 0;
            if (Flag(token, "normalized", source, field) == true)
            {
                // Hugging Face matches such a token in normalized text; Fathom matches in the raw text, which is the
                // same only while the normalizer leaves the token's text as it is.
                if (normalizer is not null && normalizer.ApplyWithoutPrepend(content) != content)
                {
                    throw Error(source, field + "normalized", $"is true and the normalizer changes '{content}'; matching added tokens in normalized text is not supported");
                }
                attributes |= TokenAttributes.Normalized;
            }
            if (attributes != TokenAttributes.None)
            {
                extra[id] = attributes;
            }
        }
        return extra.Count > 0 ? extra : null;
    }

    private static string[] ReadMerges(JsonElement model, string source)
    {
        var merges = Required(model, "merges", JsonValueKind.Array, source, "model.");
        var result = new string[merges.GetArrayLength()];
        var i = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            // Older files write "left right"; newer ones [left, right], which may contain spaces no string form could.
            switch (merge.ValueKind)
            {
                case JsonValueKind.String:
                    result[i] = merge.GetString()!;
                    break;
                case JsonValueKind.Array when merge.GetArrayLength() == 2
                    && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String:
                    var left = merge[0].GetString()!;
                    var right = merge[1].GetString()!;
                    if (left.Length == 0 || right.Length == 0 || left.Contains(' ', StringComparison.Ordinal))
                    {
                        throw Error(source, $"model.merges[{i}]", "has an empty piece or a left piece with a space, which is not supported");
                    }
                    result[i] = left + " " + right;
                    break;
                default:
                    throw Error(source, $"model.merges[{i}]", "is neither a \"left right\" string nor a [left, right] pair");
            }
            i++;
        }
        return result;
    }
}
