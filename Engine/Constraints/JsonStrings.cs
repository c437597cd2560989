using System.Text.Json;

namespace Fathom.Engine.Constraints;

/// <summary>String schemas: plain, with minLength/maxLength, with a pattern, or with a format.</summary>
internal static class JsonStrings
{
    public static GrammarNode Compile(JsonElement schema, string path)
    {
        int? min = JsonSchemaCompiler.Count(schema, "minLength", path);
        int? max = JsonSchemaCompiler.Count(schema, "maxLength", path);
        bool hasPattern = schema.TryGetProperty("pattern", out var pattern);
        bool hasFormat = schema.TryGetProperty("format", out var format);
        if (hasPattern && hasFormat)
        {
            throw new UnsupportedSchemaException("format", path, "format together with pattern is not supported");
        }

        if ((hasPattern || hasFormat) && (min is not null || max is not null))
        {
            throw new UnsupportedSchemaException(min is not null ? "minLength" : "maxLength", path,
                $"a length bound together with {(hasPattern ? "pattern" : "format")} is not supported (express the length in the pattern)");
        }

        if (hasPattern)
        {
            if (pattern.ValueKind != JsonValueKind.String)
            {
                throw new UnsupportedSchemaException("pattern", path, "pattern must be a string");
            }

            try
            {
                return JsonGrammars.Quoted(RegexGrammar.Compile(pattern.GetString()!));
            }
            catch (RegexNotSupportedException e)
            {
                throw new UnsupportedSchemaException("pattern", path, e.Message);
            }
        }

        if (hasFormat)
        {
            string name = format.GetString() ?? "";
            return StringFormats.Get(name) is { } content
                ? JsonGrammars.Quoted(content)
                : throw new UnsupportedSchemaException("format", path, $"format '{name}' is not supported (date-time, date, time, email and uuid are)");
        }

        if (min is null && max is null)
        {
            return JsonGrammars.AnyString;
        }

        if (max < min)
        {
            throw new UnsupportedSchemaException("maxLength", path, "maxLength is below minLength: no string satisfies both");
        }

        // JSON Schema counts characters as RFC 8259 does: code points. Each StringChar is one (escapes of surrogates are
        // not generated, so no escape pair forms one character).
        return JsonGrammars.Quoted(G.Rep(JsonGrammars.StringChar, min ?? 0, max));
    }
}
