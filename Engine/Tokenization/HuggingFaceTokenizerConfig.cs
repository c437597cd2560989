using System.Text.Json;
using static Fathom.Engine.Tokenization.HuggingFaceJson;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// What Fathom uses from a Hugging Face <c>tokenizer_config.json</c>: the chat template(s), the BOS/EOS texts and
/// whether BOS/EOS are added. Null means "not in the file".
/// </summary>
public sealed record HuggingFaceTokenizerConfig
{
    /// <summary>The file name in a model directory.</summary>
    public const string FileName = "tokenizer_config.json";

    /// <summary>The default chat template's Jinja source (<c>chat_template</c> as a string, or the entry named <c>default</c>).</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Every named chat template when <c>chat_template</c> is a list (e.g. <c>default</c>, <c>tool_use</c>); empty otherwise.</summary>
    public IReadOnlyDictionary<string, string> NamedChatTemplates { get; init; } = new Dictionary<string, string>();

    /// <summary><c>bos_token</c>'s text (a string or an AddedToken object's <c>content</c>).</summary>
    public string? BosToken { get; init; }

    /// <summary><c>eos_token</c>'s text.</summary>
    public string? EosToken { get; init; }

    /// <summary><c>unk_token</c>'s text.</summary>
    public string? UnknownToken { get; init; }

    /// <summary><c>pad_token</c>'s text.</summary>
    public string? PadToken { get; init; }

    /// <summary><c>add_bos_token</c>: overrides the post-processor of <c>tokenizer.json</c> when present.</summary>
    public bool? AddBosToken { get; init; }

    /// <summary><c>add_eos_token</c>.</summary>
    public bool? AddEosToken { get; init; }

    /// <summary><c>clean_up_tokenization_spaces</c>: decoding drops spaces before punctuation and contractions.</summary>
    public bool? CleanUpTokenizationSpaces { get; init; }

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="TokenizerException">The file cannot be read, is not JSON, or a field has the wrong type.</exception>
    public static HuggingFaceTokenizerConfig Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(ReadFile(path), path);
    }

    /// <summary>Reads the bytes of a <c>tokenizer_config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="TokenizerException">The JSON is malformed or a field has the wrong type.</exception>
    public static HuggingFaceTokenizerConfig Parse(ReadOnlySpan<byte> json, string source = FileName)
    {
        using var document = ParseObject(json, source);
        var root = document.RootElement;
        var (template, named) = ReadChatTemplates(root, source);
        return new HuggingFaceTokenizerConfig
        {
            ChatTemplate = template,
            NamedChatTemplates = named,
            BosToken = TokenText(root, "bos_token", source),
            EosToken = TokenText(root, "eos_token", source),
            UnknownToken = TokenText(root, "unk_token", source),
            PadToken = TokenText(root, "pad_token", source),
            AddBosToken = Flag(root, "add_bos_token", source),
            AddEosToken = Flag(root, "add_eos_token", source),
            CleanUpTokenizationSpaces = Flag(root, "clean_up_tokenization_spaces", source),
        };
    }

    private static (string? Default, Dictionary<string, string> Named) ReadChatTemplates(JsonElement root, string source)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        var value = Optional(root, "chat_template");
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined:
                return (null, named);
            case JsonValueKind.String:
                return (value.GetString(), named);
            case JsonValueKind.Array:
                var i = 0;
                foreach (var entry in value.EnumerateArray())
                {
                    var field = $"chat_template[{i++}]";
                    if (entry.ValueKind != JsonValueKind.Object)
                    {
                        throw Error(source, field, "is not an object with name and template");
                    }
                    var name = Required(entry, "name", JsonValueKind.String, source, field + ".").GetString()!;
                    var template = Required(entry, "template", JsonValueKind.String, source, field + ".").GetString()!;
                    if (!named.TryAdd(name, template))
                    {
                        throw Error(source, field + ".name", $"'{name}' is repeated");
                    }
                }
                return (named.GetValueOrDefault("default"), named);
            default:
                throw Error(source, "chat_template", $"is {value.ValueKind}, expected a string or a list of {{name, template}}");
        }
    }

    // Special tokens are written as plain strings or as AddedToken objects ({"__type": "AddedToken", "content": ...}).
    private static string? TokenText(JsonElement root, string name, string source)
    {
        var value = Optional(root, name);
        return value.ValueKind switch
        {
            JsonValueKind.Undefined => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => Required(value, "content", JsonValueKind.String, source, name + ".").GetString(),
            _ => throw Error(source, name, $"is {value.ValueKind}, expected a string or an object with content"),
        };
    }
}
