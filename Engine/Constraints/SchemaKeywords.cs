namespace Fathom.Engine.Constraints;

/// <summary>
/// The one place that says what the schema compiler does with each keyword: a supported keyword shapes the grammar; an
/// annotation (a standard one such as <c>description</c>, or any keyword outside the JSON Schema vocabularies, which
/// JSON Schema itself treats as an annotation: Semantic Kernel writes one under <c>condition</c>) is ignored; any other
/// standard keyword changes what validates and is not supported, so the compiler refuses it by name (400 at the API)
/// rather than generate output it may not validate.
/// </summary>
internal static class SchemaKeywords
{
    /// <summary>Keywords that shape the grammar.</summary>
    public static IReadOnlySet<string> Supported { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const", "anyOf",
        "$ref", "pattern", "format", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    };

    // Standard keywords that never change what validates: meta-data, comments, containers of definitions, the content
    // vocabulary (annotation-only in 2020-12) and OpenAPI's nullable (an extra null is allowed, never required).
    private static readonly HashSet<string> StandardAnnotations = new(StringComparer.Ordinal)
    {
        "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment", "$schema",
        "$defs", "definitions", "contentEncoding", "contentMediaType", "contentSchema", "nullable",
    };

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

    /// <summary>
    /// Whether the compiler ignores <paramref name="keyword"/> in a schema object at <paramref name="path"/>: a standard
    /// annotation, a keyword outside the standard vocabularies, or <c>$id</c> at the root (elsewhere it would move the
    /// base that <c>$ref</c>s resolve against).
    /// </summary>
    public static bool IsAnnotation(string keyword, string path) =>
        StandardAnnotations.Contains(keyword) || !Standard.Contains(keyword) || (keyword == "$id" && path.Length == 0);
}
