using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace Fathom.Engine.Templates;

/// <summary>Converts .NET and JSON values into the interpreter's Python-like values.</summary>
internal static class TemplateValues
{
    public static object? From(object? value) => From(value, 0);

    // Depth-checked: a caller's dictionary or list that holds itself must fail, not overflow the stack.
    private static object? From(object? value, int depth) => value switch
    {
        null => null,
        string or bool or long or double => value,
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        uint u => (long)u,
        float f => (double)f,
        decimal m => (double)m,
        JsonElement element => From(element, depth),
        IDictionary<string, object?> dict => FromPairs(dict, depth),
        IReadOnlyDictionary<string, object?> dict => FromPairs(dict, depth),
        IEnumerable items => FromItems(items, depth),
        _ => throw new ArgumentException($"A template variable cannot be of type {value.GetType().Name}.", nameof(value)),
    };

    public static object? From(JsonElement element) => From(element, 0);

    private static object? From(JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                Nested(depth);
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (JsonProperty property in element.EnumerateObject())
                    dict[property.Name] = From(property.Value, depth + 1);
                return dict;
            case JsonValueKind.Array:
                Nested(depth);
                return element.EnumerateArray().Select(x => From(x, depth + 1)).ToList();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                // Python's json keeps integers as int and anything with a fraction or exponent as float.
                string raw = element.GetRawText();
                if (raw.AsSpan().IndexOfAny(".eE") < 0 && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                    return l;
                return element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    private static Dictionary<string, object?> FromPairs(IEnumerable<KeyValuePair<string, object?>> pairs, int depth)
    {
        Nested(depth);
        return pairs.ToDictionary(p => p.Key, p => From(p.Value, depth + 1), StringComparer.Ordinal);
    }

    private static List<object?> FromItems(IEnumerable items, int depth)
    {
        Nested(depth);
        return items.Cast<object?>().Select(x => From(x, depth + 1)).ToList();
    }

    private static void Nested(int depth) => Jinja.JinjaBudget.Current.Depth(depth + 1);

    /// <summary>A message as the dict a template sees.</summary>
    public static Dictionary<string, object?> FromMessage(ChatMessage message, bool argumentsAsObject)
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["role"] = message.Role,
            ["content"] = message.Content,
        };
        if (message.ReasoningContent is not null)
            dict["reasoning_content"] = message.ReasoningContent;
        if (message.ToolCalls is { } calls)
        {
            dict["tool_calls"] = calls.Select(call => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["name"] = call.Name,
                    ["arguments"] = argumentsAsObject ? ParseArguments(call.Arguments) : call.Arguments,
                },
            }).ToList();
        }

        if (message.ToolCallId is not null)
            dict["tool_call_id"] = message.ToolCallId;
        if (message.Name is not null)
            dict["name"] = message.Name;
        return dict;
    }

    private static object? ParseArguments(string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            return From(document.RootElement);
        }
        catch (JsonException)
        {
            return arguments;
        }
    }
}
