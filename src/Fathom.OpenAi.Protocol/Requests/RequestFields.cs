using System.Globalization;
using System.Text.Json;

namespace Fathom.OpenAi.Protocol.Requests;

/// <summary>
/// Strict, typed readers of a request body's fields, shared by the API and the engine so both read a body the same
/// way: a field of the wrong type, or a number that is not what the field holds, is a <see cref="RequestFieldException"/>
/// naming it. JSON <c>null</c> reads as absent. Integers may be written as whole floats (<c>4096.0</c>), as vLLM's
/// pydantic models accept them; <c>4096.5</c> is not an integer.
/// </summary>
public static class RequestFields
{
    /// <summary>The property, or null when absent or JSON null.</summary>
    public static JsonElement? Get(this JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>A string field; null when absent.</summary>
    public static string? GetString(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => StringOf(v, name),
        _ => throw Invalid(name, "a string"),
    };

    /// <summary>A string element's value; an escaped lone surrogate (<c>"\ud800"</c>) is no text and an error naming <paramref name="name"/>.</summary>
    public static string StringOf(JsonElement value, string name)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new RequestFieldException($"'{name}' is not valid Unicode text (an unpaired surrogate escape).", name);
        }
    }

    /// <summary>A boolean field; null when absent.</summary>
    public static bool? GetBool(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw Invalid(name, "a boolean"),
    };

    /// <summary>A finite number field; null when absent.</summary>
    public static float? GetFloat(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDouble(out double d) && double.IsFinite(d) => (float)d,
        _ => throw Invalid(name, "a number"),
    };

    /// <summary>A 32-bit integer field (<c>4096</c> or <c>4096.0</c>); null when absent.</summary>
    public static int? GetInt(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when TryGetWholeInt32(v, out int i) => i,
        _ => throw Invalid(name, "an integer"),
    };

    /// <summary>A 64-bit integer field (<c>42</c> or <c>42.0</c>); null when absent.</summary>
    public static long? GetLong(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out long i) => i,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDouble(out double d) && d == Math.Floor(d) && d is >= long.MinValue and < long.MaxValue => (long)d,
        _ => throw Invalid(name, "an integer"),
    };

    /// <summary>An integer written as one (<c>4096</c>) or as a whole float (<c>4096.0</c>, which some clients send); <c>4096.5</c> is not.</summary>
    public static bool TryGetWholeInt32(JsonElement number, out int value)
    {
        if (number.ValueKind != JsonValueKind.Number)
        {
            value = 0;
            return false;
        }

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

    /// <summary>A string or an array of strings (OpenAI's <c>stop</c>); null when absent.</summary>
    public static IReadOnlyList<string>? GetStringOrArray(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => [StringOf(v, name)],
        { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? StringOf(e, name) : throw Invalid(name, "a string or an array of strings"))],
        _ => throw Invalid(name, "a string or an array of strings"),
    };

    /// <summary>An array of integers; null when absent.</summary>
    public static IReadOnlyList<int>? GetIntArray(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray().Select(e => TryGetWholeInt32(e, out int i) ? i : throw Invalid(name, "an array of integers"))],
        _ => throw Invalid(name, "an array of integers"),
    };

    /// <summary>An object field; null when absent.</summary>
    public static JsonElement? GetObject(this JsonElement obj, string name) => obj.Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Object } v => v,
        _ => throw Invalid(name, "an object"),
    };

    /// <summary>OpenAI's <c>logit_bias</c>: token id (as a string key) to bias; null when absent.</summary>
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

    /// <summary>The error for a field that is not <paramref name="expected"/> (e.g. "an integer").</summary>
    public static RequestFieldException Invalid(string param, string expected) => new($"'{param}' must be {expected}.", param);
}
