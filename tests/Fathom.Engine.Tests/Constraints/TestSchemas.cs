namespace Fathom.Engine.Tests.Constraints;

/// <summary>Schemas covering every supported keyword, named for test output.</summary>
internal static class TestSchemas
{
    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["object-required-optional"] = """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"nick":{"type":"string"},"active":{"type":"boolean"}},
             "required":["name","active"],"additionalProperties":false}
            """,
        ["object-all-optional"] = """
            {"type":"object","properties":{"a":{"type":"null"},"b":{"type":"boolean"},"c":{"type":"number"}},"additionalProperties":false}
            """,
        ["object-escaped-names"] = """
            {"type":"object","properties":{"quote\"d":{"type":"string"},"名前":{"type":"string","maxLength":3},"back\\slash":{"const":1}},
             "required":["quote\"d","名前","back\\slash"],"additionalProperties":false}
            """,
        ["string-length"] = """{"type":"string","minLength":3,"maxLength":8}""",
        ["string-exact-length"] = """{"type":"string","minLength":5,"maxLength":5}""",
        ["string-plain"] = """{"type":"string"}""",
        ["pattern-anchored"] = """{"type":"string","pattern":"^[A-Z]{2}-\\d{3,5}$"}""",
        ["pattern-unanchored"] = """{"type":"string","pattern":"ab+c"}""",
        ["pattern-alternatives"] = """{"type":"string","pattern":"^(cat|dog)s?$|^[0-9]+\\.[0-9]{2}$"}""",
        ["pattern-negated-class"] = """{"type":"string","pattern":"^[^@\\s]{1,10}@example\\.(com|org)$"}""",
        ["pattern-escapes"] = """{"type":"string","pattern":"^\"[\\\\/]\\w+\\.?(?:x|y)*\\u00e9$"}""",
        ["format-date-time"] = """{"type":"string","format":"date-time"}""",
        ["format-date"] = """{"type":"string","format":"date"}""",
        ["format-time"] = """{"type":"string","format":"time"}""",
        ["format-email"] = """{"type":"string","format":"email"}""",
        ["format-uuid"] = """{"type":"string","format":"uuid"}""",
        ["integer-range"] = """{"type":"integer","minimum":-150,"maximum":42}""",
        ["integer-exclusive"] = """{"type":"integer","exclusiveMinimum":7,"exclusiveMaximum":1000}""",
        ["integer-min-only"] = """{"type":"integer","minimum":100}""",
        ["integer-max-only"] = """{"type":"integer","maximum":-20}""",
        ["integer-plain"] = """{"type":"integer"}""",
        ["number-range"] = """{"type":"number","minimum":0.5,"maximum":99.5}""",
        ["number-exclusive"] = """{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1}""",
        ["number-negative"] = """{"type":"number","minimum":-10.25,"exclusiveMaximum":-2}""",
        ["number-plain"] = """{"type":"number"}""",
        ["boolean"] = """{"type":"boolean"}""",
        ["null"] = """{"type":"null"}""",
        ["enum-mixed"] = """{"enum":["red","green",3,null,true,{"k":[1,2]},"ünï"]}""",
        ["const-object"] = """{"const":{"a":[1,"x"],"b":null}}""",
        ["anyOf"] = """{"anyOf":[{"type":"integer","minimum":0,"maximum":9},{"type":"string","maxLength":2},{"type":"object","properties":{"x":{"type":"boolean"}},"required":["x"],"additionalProperties":false}]}""",
        ["type-union"] = """{"type":["string","null"]}""",
        ["type-union-numeric"] = """{"type":["integer","boolean"],"minimum":3,"maximum":5}""",
        ["array-bounds"] = """{"type":"array","items":{"type":"integer","minimum":0,"maximum":99},"minItems":2,"maxItems":5}""",
        ["array-of-objects"] = """
            {"type":"array","minItems":1,"items":{"type":"object","properties":{"id":{"type":"integer"},"tag":{"enum":["a","b"]}},"required":["id","tag"],"additionalProperties":false}}
            """,
        ["array-any"] = """{"type":"array"}""",
        ["defs-ref"] = """
            {"$defs":{"point":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},"required":["x","y"],"additionalProperties":false}},
             "type":"object","properties":{"from":{"$ref":"#/$defs/point"},"to":{"$ref":"#/$defs/point"}},"required":["from","to"],"additionalProperties":false}
            """,
        ["definitions-ref"] = """
            {"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"color":{"enum":["r","g","b"]}},"type":"array","items":{"$ref":"#/definitions/color"},"maxItems":3}
            """,
        ["recursive-tree"] = """
            {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":3}},
             "required":["value","children"],"additionalProperties":false}}}
            """,
        ["recursive-root"] = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":6},"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["name","next"],"additionalProperties":false}
            """,
        ["any-object"] = """{"type":"object"}""",
        ["any-value"] = """{}""",
        ["ignored-keywords"] = """
            {"$schema":"https://json-schema.org/draft/2020-12/schema","title":"T","description":"d","type":"object","properties":{"a":{"type":"string","default":"x","examples":["y"],"description":"z"}},"required":["a"],"additionalProperties":false}
            """,
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string vocabulary in new[] { ConstraintVocabularies.Llama3, ConstraintVocabularies.Stories260K })
        {
            foreach (string name in All.Keys)
            {
                data.Add(name, vocabulary);
            }
        }

        return data;
    }
}
