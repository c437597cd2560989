using System.Text.Json;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Reading helpers shared by the Hugging Face file readers: every problem becomes a <see cref="TokenizerException"/>
/// whose message starts with the file and names the field, e.g. <c>tokenizer.json: model.vocab is missing</c>.
/// </summary>
internal static class HuggingFaceJson
{
    public static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"{path}: cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Parses <paramref name="json"/>, which must hold one JSON object.</summary>
    public static JsonDocument ParseObject(ReadOnlySpan<byte> json, string source)
    {
        // Some editors on Windows save JSON with a UTF-8 byte order mark; Utf8JsonReader does not skip it.
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            json = json[3..];
        }
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new TokenizerException($"{source}: not valid JSON: {e.Message}", e);
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw Error(source, "(root)", "is not a JSON object");
        }
        return document;
    }

    public static JsonElement Required(JsonElement parent, string name, JsonValueKind kind, string source, string prefix = "")
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

    /// <summary>The member, or default when it is absent or null.</summary>
    public static JsonElement Optional(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : default;

    public static bool? Flag(JsonElement parent, string name, string source, string prefix = "")
    {
        var value = Optional(parent, name);
        return value.ValueKind switch
        {
            JsonValueKind.Undefined => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(source, prefix + name, "is not a boolean"),
        };
    }

    public static string? String(JsonElement parent, string name, string source, string prefix = "")
    {
        var value = Optional(parent, name);
        return value.ValueKind switch
        {
            JsonValueKind.Undefined => null,
            JsonValueKind.String => value.GetString(),
            _ => throw Error(source, prefix + name, $"is {value.ValueKind}, expected a string"),
        };
    }

    public static double? Number(JsonElement parent, string name, string source, string prefix = "")
    {
        var value = Optional(parent, name);
        return value.ValueKind switch
        {
            JsonValueKind.Undefined => null,
            JsonValueKind.Number when value.TryGetDouble(out var d) && double.IsFinite(d) => d,
            _ => throw Error(source, prefix + name, $"is {value.ValueKind}, expected a number"),
        };
    }

    public static int? Integer(JsonElement parent, string name, string source, string prefix = "")
    {
        var value = Optional(parent, name);
        return value.ValueKind switch
        {
            JsonValueKind.Undefined => null,
            _ => ToInteger(value, source, prefix + name),
        };
    }

    public static int ToInteger(JsonElement value, string source, string field) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i)
            ? i
            : throw Error(source, field, $"is {(value.ValueKind == JsonValueKind.Number ? value.GetRawText() : value.ValueKind.ToString())}, expected an integer");

    public static TokenizerException Error(string source, string field, string problem) =>
        new($"{source}: {field} {problem}");
}
