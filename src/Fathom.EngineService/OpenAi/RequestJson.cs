using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.Options;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// Reads a JSON request body strictly (within <see cref="RequestLimits"/>, valid UTF-8, valid JSON, an object) and
/// its fields by type: a field of the wrong type, or a number that is not what the field holds, is a 400 naming it.
/// </summary>
internal static class RequestJson
{
    public static async Task<JsonDocument> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var limits = request.HttpContext.RequestServices.GetRequiredService<IOptions<RequestLimits>>().Value;
        using var buffer = await OversizedBody.ReadAsync(request, limits.MaxRequestBodyBytes, limits.MaxDiscardedBodyBytes, cancellationToken);
        if (!buffer.TryGetBuffer(out var bytes) || !Utf8.IsValid(bytes))
        {
            throw OpenAiException.BadRequest("The request body is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = limits.MaxJsonDepth });
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

        try
        {
            RequestBounds.Check(document.RootElement, limits);
        }
        catch
        {
            document.Dispose();
            throw;
        }

        return document;
    }

    /// <summary>The property, or null when absent or JSON null.</summary>
    public static JsonElement? Get(this JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string? GetString(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => StringOf(v, name),
        _ => throw Invalid(name, "a string"),
    };

    /// <summary>A string element's value; an escaped lone surrogate (<c>"\ud800"</c>) is no text and a 400 naming <paramref name="name"/>.</summary>
    public static string StringOf(JsonElement value, string name)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw OpenAiException.BadRequest($"'{name}' is not valid Unicode text (an unpaired surrogate escape).", name);
        }
    }

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
        { ValueKind: JsonValueKind.Number } v when v.GetInt(out int i) => i,
        _ => throw Invalid(name, "an integer"),
    };

    /// <summary>An integer written as one (<c>4096</c>) or as a whole float (<c>4096.0</c>, which some clients send); <c>4096.5</c> is not.</summary>
    private static bool GetInt(this JsonElement number, out int value)
    {
        if (number.TryGetInt32(out value))
        {
            return true;
        }

        if (number.TryGetDouble(out double d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue)
        {
            value = (int)d;
            return true;
        }

        return false;
    }

    public static long? GetLong(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out long i) => i,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDouble(out double d) && d == Math.Floor(d) && d is >= long.MinValue and < long.MaxValue => (long)d,
        _ => throw Invalid(name, "an integer"),
    };

    /// <summary>A string or an array of strings (OpenAI's <c>stop</c>).</summary>
    public static IReadOnlyList<string>? GetStringOrArray(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => [StringOf(v, name)],
        { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? StringOf(e, name) : throw Invalid(name, "a string or an array of strings"))],
        _ => throw Invalid(name, "a string or an array of strings"),
    };

    public static IReadOnlyList<int>? GetIntArray(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.GetInt(out int i) ? i : throw Invalid(name, "an array of integers"))],
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
                || property.Value.ValueKind != JsonValueKind.Number
                || !property.Value.TryGetDouble(out double biasValue) || !double.IsFinite(biasValue))
            {
                throw Invalid(name, "an object mapping token ids to finite numbers");
            }

            bias[token] = (float)biasValue;
        }

        return bias;
    }

    public static OpenAiException Invalid(string param, string expected) =>
        OpenAiException.BadRequest($"'{param}' must be {expected}.", param);
}
