using System.Text;
using System.Text.Json;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> (BPE model with a byte-level pre-tokenizer) into a
/// <see cref="TokenizerVocabulary"/>, so that it runs through the same merge loop and byte map as a GGUF
/// <c>gpt2</c> vocabulary. Parts of the format that are not supported yet are rejected with a
/// <see cref="TokenizerException"/> naming the field rather than silently tokenizing differently.
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
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new TokenizerException($"{path}: cannot be read: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Reads a vocabulary from the bytes of a <c>tokenizer.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="TokenizerException">The JSON is malformed or uses a feature that is not supported.</exception>
    public static TokenizerVocabulary Parse(ReadOnlySpan<byte> json, string source = "tokenizer.json")
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new TokenizerException($"{source}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, "(root)", "is not a JSON object");
            }
            var model = Required(root, "model", JsonValueKind.Object, source);
            var type = Required(model, "type", JsonValueKind.String, source, "model.").GetString();
            if (type != "BPE")
            {
                throw Error(source, "model.type", $"is '{type}'; only BPE is supported");
            }
            if (Flag(model, "byte_fallback", source, "model.") == true)
            {
                throw Error(source, "model.byte_fallback", "is true; byte fallback (SentencePiece-style BPE) is not supported yet");
            }

            var texts = new Dictionary<int, string>();
            var types = new Dictionary<int, int>();
            foreach (var entry in Required(model, "vocab", JsonValueKind.Object, source, "model.").EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                {
                    throw Error(source, "model.vocab", $"'{entry.Name}' has no non-negative integer id");
                }
                texts[id] = entry.Name;
            }
            ReadAddedTokens(root, texts, types, source);

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

            var (pre, patterns) = ReadPreTokenizer(root, source, Flag(model, "ignore_merges", source, "model.") == true);
            return new TokenizerVocabulary
            {
                Model = "gpt2",
                Pre = pre,
                PreTokenizerPatterns = patterns,
                Tokens = tokens,
                TokenTypes = tokenTypes,
                Merges = ReadMerges(model, source),
                IgnoreMerges = Flag(model, "ignore_merges", source, "model.") ?? false,
                // BOS/EOS come from post_processor / tokenizer_config.json, which are not read yet: none added.
                AddBos = false,
                AddEos = false,
                Normalization = ReadNormalizer(root.TryGetProperty("normalizer", out var n) ? n : default, source, "normalizer"),
            };
        }
    }

    private static void ReadAddedTokens(JsonElement root, Dictionary<int, string> texts, Dictionary<int, int> types, string source)
    {
        if (!root.TryGetProperty("added_tokens", out var added) || added.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (added.ValueKind != JsonValueKind.Array)
        {
            throw Error(source, "added_tokens", "is not an array");
        }
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
        }
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

    private static (string Pre, string[]? Patterns) ReadPreTokenizer(JsonElement root, string source, bool ignoreMerges)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "pre_tokenizer", "is missing; a byte-level BPE needs a ByteLevel pre-tokenizer");
        }
        var steps = new List<(JsonElement Step, string Field)>();
        var type = Required(pre, "type", JsonValueKind.String, source, "pre_tokenizer.").GetString();
        if (type == "Sequence")
        {
            var i = 0;
            foreach (var step in Required(pre, "pretokenizers", JsonValueKind.Array, source, "pre_tokenizer.").EnumerateArray())
            {
                steps.Add((step, $"pre_tokenizer.pretokenizers[{i++}]"));
            }
        }
        else
        {
            steps.Add((pre, "pre_tokenizer"));
        }

        var patterns = new List<string>();
        var byteLevel = false;
        foreach (var (step, field) in steps)
        {
            if (byteLevel)
            {
                throw Error(source, field, "follows ByteLevel; only Split steps before one ByteLevel are supported");
            }
            var stepType = Required(step, "type", JsonValueKind.String, source, field + ".").GetString();
            switch (stepType)
            {
                case "Split":
                    patterns.Add(ReadSplit(step, source, field));
                    break;
                case "ByteLevel":
                    if (Flag(step, "add_prefix_space", source, field + ".") == true)
                    {
                        throw Error(source, field + ".add_prefix_space", "is true, which is not supported yet");
                    }
                    if (Flag(step, "use_regex", source, field + ".") != false)
                    {
                        // ByteLevel's own expression is GPT-2's.
                        if (patterns.Count > 0)
                        {
                            throw Error(source, field + ".use_regex", "is true after Split steps, which is not supported");
                        }
                        return ("gpt-2", null);
                    }
                    byteLevel = true;
                    break;
                default:
                    throw Error(source, field + ".type", $"is '{stepType}'; supported: Sequence, Split, ByteLevel");
            }
        }
        if (!byteLevel)
        {
            throw Error(source, "pre_tokenizer", "has no ByteLevel step; only byte-level BPE is supported");
        }

        if (patterns.Count == 1 && patterns[0] == Llama3Split)
        {
            return ("llama-bpe", null);
        }
        if (patterns.Count == 1 && patterns[0] == Qwen2Split)
        {
            return ("qwen2", null);
        }
        // Other expressions: the flavor only decides BOS and space clean-up defaults; Hugging Face's ByteLevel
        // decoder does not clean spaces.
        return (ignoreMerges ? "llama-bpe" : "qwen2", [.. patterns]);
    }

    private static string ReadSplit(JsonElement step, string source, string field)
    {
        var behavior = Required(step, "behavior", JsonValueKind.String, source, field + ".").GetString();
        if (behavior != "Isolated")
        {
            throw Error(source, field + ".behavior", $"is '{behavior}'; only Isolated is supported");
        }
        if (Flag(step, "invert", source, field + ".") == true)
        {
            throw Error(source, field + ".invert", "is true, which is not supported");
        }
        var pattern = Required(step, "pattern", JsonValueKind.Object, source, field + ".");
        if (pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String)
        {
            return regex.GetString()!;
        }
        if (pattern.TryGetProperty("String", out var literal) && literal.ValueKind == JsonValueKind.String)
        {
            return System.Text.RegularExpressions.Regex.Escape(literal.GetString()!);
        }
        throw Error(source, field + ".pattern", "has neither a Regex nor a String");
    }

    private static NormalizationForm? ReadNormalizer(JsonElement normalizer, string source, string field)
    {
        if (normalizer.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return null;
        }
        if (normalizer.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, field, "is not an object");
        }
        var type = Required(normalizer, "type", JsonValueKind.String, source, field + ".").GetString();
        switch (type)
        {
            case "NFC":
                return NormalizationForm.FormC;
            case "NFKC":
                return NormalizationForm.FormKC;
            case "Sequence":
                NormalizationForm? form = null;
                var i = 0;
                foreach (var inner in Required(normalizer, "normalizers", JsonValueKind.Array, source, field + ".").EnumerateArray())
                {
                    var innerField = $"{field}.normalizers[{i++}]";
                    var next = ReadNormalizer(inner, source, innerField);
                    if (form is not null && next is not null)
                    {
                        throw Error(source, innerField, "is a second Unicode normalization, which is not supported");
                    }
                    form ??= next;
                }
                return form;
            default:
                throw Error(source, field + ".type", $"is '{type}'; supported so far: NFC, NFKC, Sequence");
        }
    }

    private static JsonElement Required(JsonElement parent, string name, JsonValueKind kind, string source, string prefix = "")
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            throw Error(source, prefix + name, "is missing");
        }
        if (value.ValueKind != kind)
        {
            throw Error(source, prefix + name, $"is {value.ValueKind}, expected {kind}");
        }
        return value;
    }

    private static bool? Flag(JsonElement parent, string name, string source, string prefix)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(source, prefix + name, "is not a boolean"),
        };
    }

    private static TokenizerException Error(string source, string field, string problem) =>
        new($"{source}: {field} {problem}");
}
