using System.Text;
using System.Text.Json;
using static Fathom.Engine.Tokenization.HuggingFaceJson;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Reads the parts of a Hugging Face <c>tokenizer.json</c> around the model: <c>normalizer</c>, <c>pre_tokenizer</c>,
/// <c>post_processor</c> and <c>decoder</c>. What is not supported is rejected, naming the field, rather than
/// tokenizing differently from Hugging Face.
/// </summary>
internal static class HuggingFacePipelineJson
{
    // Hugging Face ByteLevel's own expression (GPT-2's), used when ByteLevel splits after Split steps.
    private const string ByteLevelExpression = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>What the pre-tokenizer says: byte-level with Split expressions, or character-level with Metaspace.</summary>
    public sealed record PreTokenizerSpec(bool ByteLevel, bool GptExpression, string[] Patterns, bool PrefixSpace, MetaspaceSettings? Metaspace);

    /// <summary>BOS/EOS the post-processor adds (null: it adds none).</summary>
    public sealed record PostProcessorSpec(string? Bos, string? Eos, int? BosId, int? EosId);

    /// <summary>What decoding needs: the character that stands for a space, and whether a leading space is dropped.</summary>
    public sealed record DecoderSpec(char? SpaceMarker, bool StripLeadingSpace);

    public static TextNormalizer? ReadNormalizer(JsonElement normalizer, string source, string field)
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
        var prefix = field + ".";
        switch (type)
        {
            case "NFC":
                return TextNormalizer.Unicode(NormalizationForm.FormC);
            case "NFKC":
                return TextNormalizer.Unicode(NormalizationForm.FormKC);
            case "NFD":
                return TextNormalizer.Unicode(NormalizationForm.FormD);
            case "NFKD":
                return TextNormalizer.Unicode(NormalizationForm.FormKD);
            case "Lowercase":
                return TextNormalizer.Lowercase;
            case "Strip":
                return TextNormalizer.Strip(Flag(normalizer, "strip_left", source, prefix) ?? false, Flag(normalizer, "strip_right", source, prefix) ?? false);
            case "Prepend":
                return TextNormalizer.Prepend(Required(normalizer, "prepend", JsonValueKind.String, source, prefix).GetString()!);
            case "Replace":
                var (literal, expression) = ReadPattern(normalizer, source, field);
                var content = Required(normalizer, "content", JsonValueKind.String, source, prefix).GetString()!;
                try
                {
                    return literal is not null ? TextNormalizer.Replace(literal, content) : TextNormalizer.ReplaceExpression(expression!, content);
                }
                catch (ArgumentException e)
                {
                    throw Error(source, prefix + "pattern", $"cannot be used: {e.Message}");
                }
            case "Sequence":
                var steps = new List<TextNormalizer?>();
                var i = 0;
                foreach (var inner in Required(normalizer, "normalizers", JsonValueKind.Array, source, prefix).EnumerateArray())
                {
                    steps.Add(ReadNormalizer(inner, source, $"{field}.normalizers[{i++}]"));
                }
                return TextNormalizer.Sequence(steps);
            default:
                throw Error(source, prefix + "type", $"is '{type}'; supported: NFC, NFKC, NFD, NFKD, Lowercase, Strip, Replace, Prepend, Sequence");
        }
    }

    public static PreTokenizerSpec ReadPreTokenizer(JsonElement root, string source)
    {
        var pre = Optional(root, "pre_tokenizer");
        if (pre.ValueKind == JsonValueKind.Undefined)
        {
            // Llama 2's legacy files: the normalizer writes the spaces as ▁ and the model sees the whole text.
            return new PreTokenizerSpec(false, false, [], false, null);
        }
        if (pre.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "pre_tokenizer", "is not an object");
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
        var gptExpression = false;
        var prefixSpace = false;
        MetaspaceSettings? metaspace = null;
        foreach (var (step, field) in steps)
        {
            if (byteLevel || metaspace is not null)
            {
                throw Error(source, field, "follows ByteLevel or Metaspace; only Split steps before one of them are supported");
            }
            var stepType = Required(step, "type", JsonValueKind.String, source, field + ".").GetString();
            switch (stepType)
            {
                case "Split":
                    patterns.Add(ReadSplit(step, source, field));
                    break;
                case "ByteLevel":
                    byteLevel = true;
                    prefixSpace = Flag(step, "add_prefix_space", source, field + ".") ?? false;
                    if (Flag(step, "use_regex", source, field + ".") != false)
                    {
                        if (patterns.Count == 0)
                        {
                            gptExpression = true;
                        }
                        else
                        {
                            patterns.Add(ByteLevelExpression);
                        }
                    }
                    break;
                case "Metaspace":
                    if (patterns.Count > 0)
                    {
                        throw Error(source, field, "follows Split steps, which is not supported with Metaspace");
                    }
                    metaspace = ReadMetaspace(step, source, field);
                    break;
                default:
                    throw Error(source, field + ".type", $"is '{stepType}'; supported: Sequence, Split, ByteLevel, Metaspace");
            }
        }
        if (!byteLevel && metaspace is null)
        {
            throw Error(source, "pre_tokenizer", "has neither a ByteLevel nor a Metaspace step; Split alone is not supported");
        }
        return new PreTokenizerSpec(byteLevel, gptExpression, [.. patterns], prefixSpace, metaspace);
    }

    public static MetaspaceSettings ReadMetaspace(JsonElement step, string source, string field)
    {
        var prefix = field + ".";
        var replacement = String(step, "replacement", source, prefix) ?? "\u2581";
        if (replacement.Length != 1)
        {
            throw Error(source, prefix + "replacement", $"is '{replacement}'; only a single UTF-16 character is supported");
        }
        MetaspacePrependScheme scheme;
        switch (String(step, "prepend_scheme", source, prefix))
        {
            case "always":
                scheme = MetaspacePrependScheme.Always;
                break;
            case "first":
                scheme = MetaspacePrependScheme.First;
                break;
            case "never":
                scheme = MetaspacePrependScheme.Never;
                break;
            case null:
                // Files written before prepend_scheme existed say add_prefix_space.
                scheme = Flag(step, "add_prefix_space", source, prefix) == false ? MetaspacePrependScheme.Never : MetaspacePrependScheme.Always;
                break;
            case var other:
                throw Error(source, prefix + "prepend_scheme", $"is '{other}'; expected always, first or never");
        }
        return new MetaspaceSettings(replacement[0], scheme, Flag(step, "split", source, prefix) ?? true);
    }

    public static PostProcessorSpec ReadPostProcessor(JsonElement root, string source)
    {
        var none = new PostProcessorSpec(null, null, null, null);
        var post = Optional(root, "post_processor");
        return post.ValueKind == JsonValueKind.Undefined ? none : ReadPostProcessor(post, source, "post_processor", none);
    }

    private static PostProcessorSpec ReadPostProcessor(JsonElement post, string source, string field, PostProcessorSpec spec)
    {
        if (post.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, field, "is not an object");
        }
        var prefix = field + ".";
        var type = Required(post, "type", JsonValueKind.String, source, prefix).GetString();
        switch (type)
        {
            case "ByteLevel":
                // Only moves offsets, which Fathom does not report.
                return spec;
            case "Sequence":
                var i = 0;
                foreach (var inner in Required(post, "processors", JsonValueKind.Array, source, prefix).EnumerateArray())
                {
                    spec = ReadPostProcessor(inner, source, $"{field}.processors[{i++}]", spec);
                }
                return spec;
            case "TemplateProcessing":
                return ReadTemplate(post, source, field);
            case "RobertaProcessing" or "BertProcessing":
                var cls = Required(post, "cls", JsonValueKind.Array, source, prefix);
                var sep = Required(post, "sep", JsonValueKind.Array, source, prefix);
                return new PostProcessorSpec(
                    TokenPair(cls, source, prefix + "cls").Text, TokenPair(sep, source, prefix + "sep").Text,
                    TokenPair(cls, source, prefix + "cls").Id, TokenPair(sep, source, prefix + "sep").Id);
            default:
                throw Error(source, prefix + "type", $"is '{type}'; supported: TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence");
        }
    }

    // "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, ...]: one token before $A is BOS, one after is EOS.
    private static PostProcessorSpec ReadTemplate(JsonElement post, string source, string field)
    {
        var prefix = field + ".";
        var specials = Optional(post, "special_tokens");
        var before = new List<string>();
        var after = new List<string>();
        var seenSequence = false;
        var i = 0;
        foreach (var item in Required(post, "single", JsonValueKind.Array, source, prefix).EnumerateArray())
        {
            var itemField = $"{prefix}single[{i++}]";
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Sequence", out _))
            {
                seenSequence = true;
            }
            else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("SpecialToken", out var special) && special.ValueKind == JsonValueKind.Object)
            {
                (seenSequence ? after : before).Add(Required(special, "id", JsonValueKind.String, source, itemField + ".SpecialToken.").GetString()!);
            }
            else
            {
                throw Error(source, itemField, "is neither a Sequence nor a SpecialToken");
            }
        }
        if (!seenSequence || before.Count > 1 || after.Count > 1)
        {
            throw Error(source, prefix + "single", "must be at most one special token, the sequence, at most one special token; other templates are not supported");
        }
        return new PostProcessorSpec(
            before.Count == 1 ? before[0] : null, after.Count == 1 ? after[0] : null,
            before.Count == 1 ? SpecialId(specials, before[0], source, prefix) : null,
            after.Count == 1 ? SpecialId(specials, after[0], source, prefix) : null);
    }

    private static int? SpecialId(JsonElement specials, string name, string source, string prefix)
    {
        if (specials.ValueKind != JsonValueKind.Object || !specials.TryGetProperty(name, out var entry))
        {
            return null;
        }
        var field = $"{prefix}special_tokens[{name}].ids";
        var ids = Required(entry, "ids", JsonValueKind.Array, source, $"{prefix}special_tokens[{name}].");
        if (ids.GetArrayLength() != 1)
        {
            throw Error(source, field, "has more or fewer than one id, which is not supported");
        }
        return ToInteger(ids[0], source, field);
    }

    private static (string Text, int Id) TokenPair(JsonElement pair, string source, string field) =>
        pair.GetArrayLength() == 2 && pair[0].ValueKind == JsonValueKind.String
            ? (pair[0].GetString()!, ToInteger(pair[1], source, field + "[1]"))
            : throw Error(source, field, "is not a [text, id] pair");

    public static DecoderSpec ReadDecoder(JsonElement root, string source, bool byteLevel)
    {
        var decoder = Optional(root, "decoder");
        if (decoder.ValueKind == JsonValueKind.Undefined)
        {
            return new DecoderSpec(null, false);
        }
        var steps = new List<(JsonElement Step, string Field)>();
        if (decoder.ValueKind == JsonValueKind.Object && decoder.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "Sequence")
        {
            var i = 0;
            foreach (var step in Required(decoder, "decoders", JsonValueKind.Array, source, "decoder.").EnumerateArray())
            {
                steps.Add((step, $"decoder.decoders[{i++}]"));
            }
        }
        else
        {
            steps.Add((decoder, "decoder"));
        }

        char? marker = null;
        var strip = false;
        var fused = false;
        foreach (var (step, field) in steps)
        {
            if (step.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, field, "is not an object");
            }
            var prefix = field + ".";
            var type = Required(step, "type", JsonValueKind.String, source, prefix).GetString();
            switch (type)
            {
                case "ByteLevel" when byteLevel:
                    break;
                case "Metaspace" when !byteLevel:
                    var metaspace = ReadMetaspace(step, source, field);
                    marker = metaspace.Replacement;
                    strip |= metaspace.PrependScheme != MetaspacePrependScheme.Never;
                    break;
                case "Replace" when !byteLevel:
                    var (literal, _) = ReadPattern(step, source, field);
                    if (literal is not { Length: 1 } || Required(step, "content", JsonValueKind.String, source, prefix).GetString() != " ")
                    {
                        throw Error(source, field, "is supported only as a one-character String pattern replaced by \" \"");
                    }
                    marker = literal[0];
                    break;
                case "ByteFallback" when !byteLevel:
                    break;
                case "Fuse":
                    fused = true;
                    break;
                case "Strip" when !byteLevel:
                    var start = Integer(step, "start", source, prefix) ?? 0;
                    var stop = Integer(step, "stop", source, prefix) ?? 0;
                    if (String(step, "content", source, prefix) != " " || start > 1 || stop != 0 || (start == 1 && !fused))
                    {
                        throw Error(source, field, "is supported only as stripping one leading \" \" after Fuse");
                    }
                    strip |= start == 1;
                    break;
                default:
                    throw Error(source, prefix + "type", byteLevel
                        ? $"is '{type}'; a byte-level tokenizer supports the ByteLevel decoder"
                        : $"is '{type}'; supported: Metaspace, or a Sequence of Replace, ByteFallback, Fuse, Strip");
            }
        }
        return new DecoderSpec(marker, strip);
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
        var (literal, expression) = ReadPattern(step, source, field);
        return literal is not null ? System.Text.RegularExpressions.Regex.Escape(literal) : expression!;
    }

    private static (string? Literal, string? Expression) ReadPattern(JsonElement step, string source, string field)
    {
        var pattern = Required(step, "pattern", JsonValueKind.Object, source, field + ".");
        if (pattern.TryGetProperty("String", out var literal) && literal.ValueKind == JsonValueKind.String && literal.GetString()!.Length > 0)
        {
            return (literal.GetString(), null);
        }
        if (pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String && regex.GetString()!.Length > 0)
        {
            return (null, regex.GetString());
        }
        throw Error(source, field + ".pattern", "has neither a non-empty Regex nor a non-empty String");
    }
}
