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
    [InlineData("""{"type":"object","description":"d","title":"t","x-sk":1,"properties":{"a":{"type":"array","default":[],"contains":{"type":"string"}}}}""", "contains", "/properties/a")]
    [InlineData("""{"type":"object","description":"annotations do not hide it","maxProperties":2}""", "maxProperties", "")]
    [InlineData("""{"type":"object","propertyNames":{"pattern":"^a"}}""", "propertyNames", "")]
    [InlineData("""{"type":"object","dependentRequired":{"a":["b"]}}""", "dependentRequired", "")]
    [InlineData("""{"type":"object","unevaluatedProperties":false}""", "unevaluatedProperties", "")]
    [InlineData("""{"type":"object","properties":{"a":{"$id":"https://example.com/a","type":"string"}}}""", "$id", "/properties/a")]
    public void Unsupported_keywords_throw_naming_the_keyword_and_path(string schema, string keyword, string path)
    {
        using var document = JsonDocument.Parse(schema);
        var e = Assert.Throws<UnsupportedSchemaException>(() => Grammar.FromJsonSchema(document.RootElement));
        Assert.Equal(keyword, e.Keyword);
        Assert.Equal(path, e.Path);
        Assert.Contains($"'{keyword}'", e.Message, StringComparison.Ordinal);
    }

    // Annotations (standard ones, and keywords outside JSON Schema, which it treats as annotations) change nothing: the
    // annotated schema admits exactly the outputs of the bare one, and its validation keywords still hold.
    [Theory]
    [InlineData("description")]
    [InlineData("title")]
    [InlineData("default")]
    [InlineData("examples")]
    [InlineData("$comment")]
    [InlineData("deprecated")]
    [InlineData("readOnly")]
    [InlineData("writeOnly")]
    [InlineData("contentMediaType")]
    [InlineData("nullable")]
    [InlineData("condition")]
    [InlineData("x-vendor")]
    public void Annotations_are_ignored_by_the_compiler(string keyword)
    {
        string annotated = $$"""
            {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","{{keyword}}":"x",
             "properties":{"n":{"type":"integer","minimum":1,"maximum":3,"{{keyword}}":[1]},"s":{"type":"string","format":"date","{{keyword}}":{"a":1} } },
             "required":["n","s"],"additionalProperties":false}
            """;
        using var document = JsonDocument.Parse(annotated);
        var grammar = Grammar.FromJsonSchema(document.RootElement);
        var (_, vocabulary) = ConstraintVocabularies.Get(ConstraintVocabularies.Llama3);
        Assert.True(new GrammarMatcher(grammar, vocabulary).AcceptBytes("""{"n":2,"s":"2024-02-28"}"""u8));
        Assert.False(new GrammarMatcher(grammar, vocabulary).AcceptBytes("""{"n":4"""u8));
        Assert.False(new GrammarMatcher(grammar, vocabulary).AcceptBytes("""{"n":2,"s":"x"""u8));
        Assert.False(new GrammarMatcher(grammar, vocabulary).AcceptBytes("""{"n":2,"s":"2024-02-28","x"""u8));
    }

    // OpenAPI writers put formats such as int32 on numbers; validators ignore format on non-strings, and so does the compiler.
    [Fact]
    public void A_format_on_a_number_is_ignored_but_an_unknown_string_format_is_refused()
    {
        using var number = JsonDocument.Parse("""{"type":"integer","format":"int32","minimum":0,"maximum":5}""");
        var (_, vocabulary) = ConstraintVocabularies.Get(ConstraintVocabularies.Llama3);
        var matcher = new GrammarMatcher(Grammar.FromJsonSchema(number.RootElement), vocabulary);
        Assert.True(matcher.AcceptBytes("3"u8) && matcher.CanEnd);
        Assert.False(matcher.AcceptBytes("3"u8), "still bounded by maximum");

        using var text = JsonDocument.Parse("""{"type":"string","format":"uri"}""");
        Assert.Equal("format", Assert.Throws<UnsupportedSchemaException>(() => Grammar.FromJsonSchema(text.RootElement)).Keyword);
    }
}
