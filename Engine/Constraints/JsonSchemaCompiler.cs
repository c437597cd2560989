using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Fathom.Engine.Constraints;

/// <summary>
/// Turns a JSON Schema (the subset OpenAI's strict structured outputs accepts) into a grammar for compact-or-pretty JSON
/// that validates against it. Objects emit their properties in schema order; every other keyword either shapes the grammar
/// or is refused with <see cref="UnsupportedSchemaException"/> naming it.
/// </summary>
internal sealed class JsonSchemaCompiler
{
    private static readonly GrammarNode Separator = G.Seq(JsonGrammars.Whitespace, G.Lit(","), JsonGrammars.Whitespace);

    private readonly JsonElement _root;
    private readonly Dictionary<string, RuleNode> _references = new(StringComparer.Ordinal);

    private JsonSchemaCompiler(JsonElement root) => _root = root;

    public static GrammarNode Compile(JsonElement schema) => new JsonSchemaCompiler(schema.Clone()).Schema(schema.Clone(), "");

    private GrammarNode Schema(JsonElement schema, string path)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return JsonGrammars.AnyValue;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new UnsupportedSchemaException("schema", path, $"a schema must be an object or true, not {schema.ValueKind}");
        }

        var constraining = new List<string>();
        foreach (var property in schema.EnumerateObject())
        {
            if (SchemaKeywords.IsAnnotation(property.Name, path))
            {
                continue;
            }

            if (!SchemaKeywords.Supported.Contains(property.Name))
            {
                throw new UnsupportedSchemaException(property.Name, path, "the keyword is not in the supported subset");
            }

            constraining.Add(property.Name);
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            OnlyAlongside(constraining, "$ref", path);
            return Reference(reference, path);
        }

        if (schema.TryGetProperty("anyOf", out var anyOf))
        {
            OnlyAlongside(constraining, "anyOf", path);
            if (anyOf.ValueKind != JsonValueKind.Array || anyOf.GetArrayLength() == 0)
            {
                throw new UnsupportedSchemaException("anyOf", path, "anyOf must be a non-empty array");
            }

            return G.Alt([.. anyOf.EnumerateArray().Select((s, i) => Schema(s, $"{path}/anyOf/{i}"))]);
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return Literal(constant);
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
            {
                throw new UnsupportedSchemaException("enum", path, "enum must be a non-empty array");
            }

            return G.Alt([.. values.EnumerateArray().Select(Literal)]);
        }

        var types = Types(schema, path);
        return G.Alt([.. types.Select(type => type switch
        {
            "string" => JsonStrings.Compile(schema, path),
            "integer" => JsonNumbers.Integer(schema, path),
            "number" => JsonNumbers.Number(schema, path),
            "boolean" => G.Alt(G.Lit("true"), G.Lit("false")),
            "null" => G.Lit("null"),
            "object" => Object(schema, path),
            "array" => Array(schema, path),
            _ => JsonGrammars.AnyValue,
        })]);
    }

    private static void OnlyAlongside(List<string> constraining, string keyword, string path)
    {
        foreach (string other in constraining)
        {
            if (other != keyword)
            {
                throw new UnsupportedSchemaException(other, path, $"'{other}' beside '{keyword}' is not supported (put it inside the {keyword} branches)");
            }
        }
    }

    // The types a schema allows; without "type", the one its keywords imply (or any value).
    private static List<string> Types(JsonElement schema, string path)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            var names = type.ValueKind switch
            {
                JsonValueKind.String => [type.GetString()!],
                JsonValueKind.Array => type.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String
                    ? t.GetString()!
                    : throw new UnsupportedSchemaException("type", path, "type entries must be strings")).ToList(),
                _ => throw new UnsupportedSchemaException("type", path, "type must be a string or an array of strings"),
            };
            foreach (string name in names)
            {
                if (name is not ("string" or "integer" or "number" or "boolean" or "null" or "object" or "array"))
                {
                    throw new UnsupportedSchemaException("type", path, $"unknown type '{name}'");
                }
            }

            if (names.Count == 0)
            {
                throw new UnsupportedSchemaException("type", path, "type must name at least one type");
            }

            return names.Distinct(StringComparer.Ordinal).ToList();
        }

        bool Has(params string[] keywords) => keywords.Any(k => schema.TryGetProperty(k, out _));
        if (Has("properties", "required", "additionalProperties"))
        {
            return ["object"];
        }

        if (Has("items", "minItems", "maxItems"))
        {
            return ["array"];
        }

        if (Has("pattern", "format", "minLength", "maxLength"))
        {
            return ["string"];
        }

        if (Has("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
        {
            return ["number"];
        }

        return ["any"];
    }

    // Compact JSON with non-ASCII kept as UTF-8 (what a model writes), so the value compares equal to the schema's.
    private static BytesNode Literal(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            value.WriteTo(writer);
        }

        return new BytesNode(buffer.WrittenSpan.ToArray());
    }

    private GrammarNode Object(JsonElement schema, string path)
    {
        var names = new List<string>();
        var members = new List<GrammarNode>();
        if (schema.TryGetProperty("properties", out var properties))
        {
            if (properties.ValueKind != JsonValueKind.Object)
            {
                throw new UnsupportedSchemaException("properties", path, "properties must be an object");
            }

            foreach (var property in properties.EnumerateObject())
            {
                names.Add(property.Name);
                members.Add(Member(property.Name, Schema(property.Value, $"{path}/properties/{Escape(property.Name)}")));
            }
        }

        var required = new bool[names.Count];
        if (schema.TryGetProperty("required", out var requiredNames))
        {
            if (requiredNames.ValueKind != JsonValueKind.Array)
            {
                throw new UnsupportedSchemaException("required", path, "required must be an array of names");
            }

            foreach (var name in requiredNames.EnumerateArray())
            {
                string text = name.GetString() ?? throw new UnsupportedSchemaException("required", path, "required must be an array of names");
                int index = names.IndexOf(text);
                if (index < 0)
                {
                    // Required but not described: any value will do.
                    names.Add(text);
                    members.Add(Member(text, JsonGrammars.AnyValue));
                    System.Array.Resize(ref required, names.Count);
                    index = names.Count - 1;
                }

                required[index] = true;
            }
        }

        bool closed = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False;
        if (names.Count == 0 && !closed)
        {
            // Nothing described and more allowed: any object. (Extra properties are otherwise never generated, which is valid.)
            return JsonGrammars.AnyObject;
        }

        var ws = JsonGrammars.Whitespace;
        return G.Seq(G.Lit("{"), ws, new MemberListNode([.. members], required, Separator), ws, G.Lit("}"));
    }

    private static GrammarNode Member(string name, GrammarNode value) =>
        G.Seq(Literal(JsonSerializer.SerializeToElement(name, JsonElementContext.Default.String)), JsonGrammars.Whitespace, G.Lit(":"), JsonGrammars.Whitespace, value);

    private GrammarNode Array(JsonElement schema, string path)
    {
        GrammarNode item = JsonGrammars.AnyValue;
        if (schema.TryGetProperty("items", out var items))
        {
            if (items.ValueKind is not (JsonValueKind.Object or JsonValueKind.True))
            {
                throw new UnsupportedSchemaException("items", path, "items must be one schema (tuple forms are not supported)");
            }

            item = Schema(items, $"{path}/items");
        }

        int min = Count(schema, "minItems", path) ?? 0;
        int? max = Count(schema, "maxItems", path);
        if (max < min)
        {
            throw new UnsupportedSchemaException("maxItems", path, "maxItems is below minItems: no array satisfies both");
        }

        return JsonGrammars.ArrayOf(item, min, max);
    }

    /// <summary>A non-negative integer keyword's value, or null when absent.</summary>
    public static int? Count(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out decimal number) || number < 0 || number != decimal.Truncate(number))
        {
            throw new UnsupportedSchemaException(keyword, path, $"{keyword} must be a non-negative integer");
        }

        if (number > 100_000)
        {
            throw new UnsupportedSchemaException(keyword, path, $"{keyword} above 100000 is not supported");
        }

        return (int)number;
    }

    private RuleNode Reference(JsonElement reference, string path)
    {
        string target = reference.GetString() ?? throw new UnsupportedSchemaException("$ref", path, "$ref must be a string");
        if (_references.TryGetValue(target, out var rule))
        {
            return rule;
        }

        if (target != "#" && !target.StartsWith("#/", StringComparison.Ordinal))
        {
            throw new UnsupportedSchemaException("$ref", path, $"only references inside the schema (\"#...\") are supported, not '{target}'");
        }

        var resolved = _root;
        foreach (string raw in target.Length <= 2 ? [] : target[2..].Split('/'))
        {
            string token = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (resolved.ValueKind == JsonValueKind.Object && resolved.TryGetProperty(token, out var child))
            {
                resolved = child;
            }
            else if (resolved.ValueKind == JsonValueKind.Array && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < resolved.GetArrayLength())
            {
                resolved = resolved[index];
            }
            else
            {
                throw new UnsupportedSchemaException("$ref", path, $"'{target}' does not resolve inside the schema");
            }
        }

        rule = new RuleNode(target);
        _references.Add(target, rule);
        string targetPath = target.Length <= 1 ? "" : target[1..];
        if (resolved.ValueKind == JsonValueKind.Object && resolved.TryGetProperty("$ref", out _) && IsReferenceCycle(resolved, [target]))
        {
            throw new UnsupportedSchemaException("$ref", path, $"'{target}' refers only to itself through references");
        }

        rule.Body = Schema(resolved, targetPath);
        return rule;
    }

    // A chain of bare references that comes back to itself describes no value.
    private bool IsReferenceCycle(JsonElement schema, HashSet<string> seen)
    {
        while (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var next) && next.GetString() is { } target)
        {
            if (!seen.Add(target))
            {
                return true;
            }

            schema = target == "#" ? _root : Resolve(target) ?? default;
        }

        return false;
    }

    private JsonElement? Resolve(string target)
    {
        var resolved = _root;
        foreach (string raw in target[2..].Split('/'))
        {
            string token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (resolved.ValueKind != JsonValueKind.Object || !resolved.TryGetProperty(token, out resolved))
            {
                return null;
            }
        }

        return resolved;
    }

    private static string Escape(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
