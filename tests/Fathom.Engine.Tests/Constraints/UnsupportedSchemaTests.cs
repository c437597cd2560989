using System.Text.Json;
using Fathom.Engine.Constraints;

namespace Fathom.Engine.Tests.Constraints;

/// <summary>What the compiler does not support is refused with the keyword and where it is, never silently ignored.</summary>
public sealed class UnsupportedSchemaTests
{
    [Theory]
    [InlineData("""{"type":"object","patternProperties":{"^a":{}}}""", "patternProperties", "")]
    [InlineData("""{"oneOf":[{"type":"string"}]}""", "oneOf", "")]
    [InlineData("""{"allOf":[{"type":"string"}]}""", "allOf", "")]
    [InlineData("""{"not":{"type":"string"}}""", "not", "")]
    [InlineData("""{"type":"array","uniqueItems":true}""", "uniqueItems", "")]
    [InlineData("""{"type":"array","prefixItems":[{"type":"string"}]}""", "prefixItems", "")]
    [InlineData("""{"type":"number","multipleOf":3}""", "multipleOf", "")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"object","minProperties":1}}}""", "minProperties", "/properties/a")]
    [InlineData("""{"type":"object","properties":{"a/b":{"type":"string","pattern":"(?=x)"}}}""", "pattern", "/properties/a~1b")]
    [InlineData("""{"type":"string","pattern":"(a)\\1"}""", "pattern", "")]
    [InlineData("""{"type":"string","pattern":"\\bword"}""", "pattern", "")]
    [InlineData("""{"type":"string","pattern":"\\p{L}+"}""", "pattern", "")]
    [InlineData("""{"type":"string","format":"hostname"}""", "format", "")]
    [InlineData("""{"type":"array","items":{"$ref":"https://example.com/s.json"}}""", "$ref", "/items")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "$ref", "")]
    [InlineData("""{"type":"strng"}""", "type", "")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""", "minimum", "")]
    [InlineData("""{"type":"array","items":{"type":"string"},"minItems":3,"maxItems":2}""", "maxItems", "")]
    [InlineData("""{"anyOf":[{"type":"string"}],"type":"string"}""", "type", "")]
    [InlineData("""{"if":{"type":"string"},"then":{"minLength":1}}""", "if", "")]
    [InlineData("""{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""", "$ref", "")]
    public void Unsupported_keywords_throw_naming_the_keyword_and_path(string schema, string keyword, string path)
    {
        using var document = JsonDocument.Parse(schema);
        var e = Assert.Throws<UnsupportedSchemaException>(() => Grammar.FromJsonSchema(document.RootElement));
        Assert.Equal(keyword, e.Keyword);
        Assert.Equal(path, e.Path);
        Assert.Contains($"'{keyword}'", e.Message, StringComparison.Ordinal);
    }
}
