using System.Text.Json;
using static Fathom.Engine.Tokenization.HuggingFaceJson;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// A Hugging Face <c>generation_config.json</c>: the model's default sampling settings and its end-of-sequence ids.
/// It lives beside the tokenizer files because Hugging Face ships them together and the EOS ids belong to the
/// vocabulary. Null means "not in the file".
/// </summary>
public sealed record HuggingFaceGenerationConfig
{
    /// <summary>The file name in a model directory.</summary>
    public const string FileName = "generation_config.json";

    /// <summary><c>temperature</c>.</summary>
    public double? Temperature { get; init; }

    /// <summary><c>top_p</c>.</summary>
    public double? TopP { get; init; }

    /// <summary><c>top_k</c>.</summary>
    public int? TopK { get; init; }

    /// <summary><c>do_sample</c>: when false, Hugging Face decodes greedily whatever the temperature says.</summary>
    public bool? DoSample { get; init; }

    /// <summary><c>eos_token_id</c>, an integer or a list: every id that ends generation. Empty when absent.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get; init; }

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="TokenizerException">The file cannot be read, is not JSON, or a field has the wrong type or range.</exception>
    public static HuggingFaceGenerationConfig Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(ReadFile(path), path);
    }

    /// <summary>Reads the bytes of a <c>generation_config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="TokenizerException">The JSON is malformed or a field has the wrong type or range.</exception>
    public static HuggingFaceGenerationConfig Parse(ReadOnlySpan<byte> json, string source = FileName)
    {
        using var document = ParseObject(json, source);
        var root = document.RootElement;
        var temperature = Number(root, "temperature", source);
        if (temperature is < 0)
        {
            throw Error(source, "temperature", $"is {temperature}; it must be 0 or more");
        }
        var topP = Number(root, "top_p", source);
        if (topP is <= 0 or > 1)
        {
            throw Error(source, "top_p", $"is {topP}; it must be in (0, 1]");
        }
        var topK = Integer(root, "top_k", source);
        if (topK is < 0)
        {
            throw Error(source, "top_k", $"is {topK}; it must be 0 (off) or more");
        }
        return new HuggingFaceGenerationConfig
        {
            Temperature = temperature,
            TopP = topP,
            TopK = topK,
            DoSample = Flag(root, "do_sample", source),
            EosTokenIds = Ids(root, "eos_token_id", source),
            BosTokenId = NonNegative(root, "bos_token_id", source),
            PadTokenId = NonNegative(root, "pad_token_id", source),
        };
    }

    private static int? NonNegative(JsonElement root, string name, string source) =>
        Integer(root, name, source) is { } id && id < 0 ? throw Error(source, name, $"is {id}, not a token id") : Integer(root, name, source);

    private static int[] Ids(JsonElement root, string name, string source)
    {
        var value = Optional(root, name);
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined:
                return [];
            case JsonValueKind.Array:
                var ids = new List<int>();
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    var id = ToInteger(item, source, $"{name}[{i++}]");
                    if (id < 0)
                    {
                        throw Error(source, $"{name}[{i - 1}]", $"is {id}, not a token id");
                    }
                    ids.Add(id);
                }
                return [.. ids];
            default:
                var single = ToInteger(value, source, name);
                return single < 0 ? throw Error(source, name, $"is {single}, not a token id") : [single];
        }
    }
}
