using System.Text.Json;
using System.Text.Json.Nodes;
using Fathom.Engine.Constraints;

namespace Fathom.Engine.Serving;

/// <summary>
/// Compiles a client's JSON Schema the way JSON Schema itself reads unknown keywords: a keyword that is not in the
/// standard vocabularies is an annotation and is ignored (Semantic Kernel, for one, writes a function's description
/// under <c>condition</c>). A standard keyword the compiler does not support still fails, naming it.
/// </summary>
internal static class SchemaCompilation
{
    // JSON Schema 2020-12 and draft-07 keywords (core, applicator, validation, meta-data, format, content, unevaluated).
    private static readonly HashSet<string> Standard = new(StringComparer.Ordinal)
    {
        "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs", "$recursiveRef", "$recursiveAnchor",
        "definitions", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "dependencies", "prefixItems", "items",
        "additionalItems", "contains", "properties", "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems",
        "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties",
        "minProperties", "required", "dependentRequired", "title", "description", "default", "deprecated", "readOnly", "writeOnly",
        "examples", "format", "contentEncoding", "contentMediaType", "contentSchema", "nullable",
    };

    /// <summary>The grammar of <paramref name="schema"/>, ignoring non-standard keywords.</summary>
    /// <exception cref="UnsupportedSchemaException">A standard keyword is not supported.</exception>
    public static Grammar Compile(JsonElement schema)
    {
        JsonNode? edited = null;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return edited is null ? Grammar.FromJsonSchema(schema) : Grammar.FromJsonSchema(JsonSerializer.SerializeToElement(edited));
            }
            catch (UnsupportedSchemaException e) when (!Standard.Contains(e.Keyword) && attempt < 256)
            {
                edited ??= JsonNode.Parse(schema.GetRawText());
                if (At(edited, e.Path) is not JsonObject holder || !holder.Remove(e.Keyword))
                {
                    throw;
                }
            }
        }
    }

    // The node at a JSON pointer ("" is the root).
    private static JsonNode? At(JsonNode? node, string pointer)
    {
        foreach (string raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            node = node switch
            {
                JsonObject o => o[token],
                JsonArray a when int.TryParse(token, System.Globalization.CultureInfo.InvariantCulture, out int i) && i < a.Count => a[i],
                _ => null,
            };
        }

        return node;
    }
}
