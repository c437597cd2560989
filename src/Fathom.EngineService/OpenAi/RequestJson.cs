using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;

namespace Fathom.EngineService.OpenAi;

/// <summary>Reads a JSON request body strictly (valid UTF-8, valid JSON, an object) and its fields by type.</summary>
internal static class RequestJson
{
    public static async Task<JsonDocument> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (!buffer.TryGetBuffer(out var bytes) || !Utf8.IsValid(bytes))
        {
            throw OpenAiException.BadRequest("The request body is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw OpenAiException.BadRequest($"The request body is not valid JSON: {e.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw OpenAiException.BadRequest("The request body must be a JSON object.");
        }

        return document;
    }

    /// <summary>The property, or null when absent or JSON null.</summary>
    public static JsonElement? Get(this JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string? GetString(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw Invalid(name, "a string"),
    };

    public static bool? GetBool(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw Invalid(name, "a boolean"),
    };

    public static float? GetFloat(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDouble(out double d) && double.IsFinite(d) => (float)d,
        _ => throw Invalid(name, "a number"),
    };

    public static int? GetInt(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out int i) => i,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDouble(out double d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
        _ => throw Invalid(name, "an integer"),
    };

    public static long? GetLong(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out long i) => i,
        _ => throw Invalid(name, "an integer"),
    };

    /// <summary>A string or an array of strings (OpenAI's <c>stop</c>).</summary>
    public static IReadOnlyList<string>? GetStringOrArray(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => [v.GetString()!],
        { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Invalid(name, "a string or an array of strings"))],
        _ => throw Invalid(name, "a string or an array of strings"),
    };

    public static IReadOnlyList<int>? GetIntArray(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i) ? i : throw Invalid(name, "an array of integers"))],
        _ => throw Invalid(name, "an array of integers"),
    };

    /// <summary>OpenAI's <c>logit_bias</c>: token id (as a string key) to bias.</summary>
    public static IReadOnlyDictionary<int, float>? GetLogitBias(this JsonElement obj, string name)
    {
        if (obj.Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(name, "an object mapping token ids to numbers");
        }

        var bias = new Dictionary<int, float>();
        foreach (var property in value.EnumerateObject())
        {
            if (!int.TryParse(property.Name, NumberStyles.Integer, CultureInfo.InvariantCulture, out int token)
                || property.Value.ValueKind != JsonValueKind.Number)
            {
                throw Invalid(name, "an object mapping token ids to numbers");
            }

            bias[token] = (float)property.Value.GetDouble();
        }

        return bias;
    }

    public static OpenAiException Invalid(string param, string expected) =>
        OpenAiException.BadRequest($"'{param}' must be {expected}.", param);
}
