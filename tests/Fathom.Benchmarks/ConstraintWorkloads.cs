using System.Text.Json;
using Fathom.Engine.Constraints;
using Fathom.Engine.Tokenization;

namespace Fathom.Benchmarks;

/// <summary>
/// Five realistic structured-output schemas, each with a plausible answer, over the 128,256-token Llama-3 vocabulary:
/// the answer is tokenized as a model would emit it (BPE over the whole text) and ends with &lt;|eot_id|&gt;.
/// </summary>
internal static class ConstraintWorkloads
{
    public static readonly (string Name, string Schema, string Answer)[] All =
    [
        ("person-address",
            """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},
             "email":{"type":"string","format":"email"},
             "address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},"postcode":{"type":"string"},
               "country":{"type":"string","enum":["GB","FR","DE","US","JP"]}},"required":["street","city","postcode","country"],"additionalProperties":false},
             "phones":{"type":"array","items":{"type":"string"},"maxItems":3},"nickname":{"type":["string","null"]}},
             "required":["name","age","email","address","phones","nickname"],"additionalProperties":false}
            """,
            """{"name": "Ada Lovelace", "age": 36, "email": "ada.lovelace@example.org", "address": {"street": "12 St James's Square", "city": "London", "postcode": "SW1Y 4JH", "country": "GB"}, "phones": ["+44 20 7946 0958", "+44 7700 900123"], "nickname": null}"""),
        ("ticket-enum-range",
            """
            {"type":"object","properties":{"priority":{"enum":["low","medium","high","urgent"]},"category":{"type":"string","enum":["billing","technical","account","other"]},
             "score":{"type":"integer","minimum":0,"maximum":100},"retries":{"type":"integer","exclusiveMinimum":-1,"maximum":5},
             "confidence":{"type":"number","minimum":0,"maximum":1},"escalate":{"type":"boolean"},"summary":{"type":"string","maxLength":120}},
             "required":["priority","category","score","retries","confidence","escalate","summary"],"additionalProperties":false}
            """,
            """{"priority": "high", "category": "billing", "score": 87, "retries": 2, "confidence": 0.93, "escalate": true, "summary": "Customer was charged twice for the March invoice and asks for a refund of the duplicate payment."}"""),
        ("order-lines",
            """
            {"type":"object","properties":{"order_id":{"type":"string","pattern":"^ORD-[0-9]{6}$"},
             "lines":{"type":"array","minItems":1,"items":{"type":"object","properties":{"sku":{"type":"string"},"description":{"type":"string"},
               "quantity":{"type":"integer","minimum":1,"maximum":999},"unit_price":{"type":"number","minimum":0}},
               "required":["sku","description","quantity","unit_price"],"additionalProperties":false}},
             "currency":{"enum":["EUR","USD","GBP"]},"notes":{"type":"string"}},"required":["order_id","lines","currency"],"additionalProperties":false}
            """,
            """{"order_id": "ORD-204518", "lines": [{"sku": "KB-104", "description": "Mechanical keyboard, UK layout", "quantity": 2, "unit_price": 89.5}, {"sku": "MS-220", "description": "Wireless mouse", "quantity": 3, "unit_price": 24.99}, {"sku": "CB-010", "description": "USB-C cable, 2 m", "quantity": 10, "unit_price": 6.75}], "currency": "EUR", "notes": "Deliver to the loading bay before noon."}"""),
        ("recursive-tree",
            """
            {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},"kind":{"enum":["dir","file"]},
             "children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["name","kind","children"],"additionalProperties":false}}}
            """,
            """{"name": "src", "kind": "dir", "children": [{"name": "Engine", "kind": "dir", "children": [{"name": "Grammar.cs", "kind": "file", "children": []}, {"name": "Matcher.cs", "kind": "file", "children": []}]}, {"name": "README.md", "kind": "file", "children": []}]}"""),
        ("tool-call-arguments",
            """
            {"type":"object","properties":{"location":{"type":"string","description":"City and country"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},
             "start":{"type":"string","format":"date-time"},"days":{"type":"integer","minimum":1,"maximum":14},
             "flight":{"type":"string","pattern":"^[A-Z]{2}[0-9]{1,4}$"},"include_hourly":{"type":"boolean"}},
             "required":["location","unit","start","days","flight","include_hourly"],"additionalProperties":false}
            """,
            """{"location": "Paris, France", "unit": "celsius", "start": "2025-06-01T09:30:00Z", "days": 5, "flight": "AF1234", "include_hourly": false}"""),
    ];

    private static readonly Lazy<(Tokenizer Tokenizer, ConstraintVocabulary Vocabulary)> Llama3 = new(() =>
    {
        var vocabulary = Llama3Vocabulary.Load(Path.Combine(SharedDirectory(), "llama3", "tokenizer.model"));
        var tokenizer = Tokenizer.Create(vocabulary with { Merges = Llama3Vocabulary.DeriveMerges(vocabulary) });
        return (tokenizer, ConstraintVocabulary.FromTokenizer(tokenizer));
    });

    public static Tokenizer Tokenizer => Llama3.Value.Tokenizer;

    public static ConstraintVocabulary Vocabulary => Llama3.Value.Vocabulary;

    public static Grammar Compile(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return Grammar.FromJsonSchema(document.RootElement);
    }

    /// <summary>The answer's tokens plus &lt;|eot_id|&gt;; checked against the grammar.</summary>
    public static int[] Tokens(string schema, string answer)
    {
        int[] tokens = [.. Tokenizer.Encode(answer), Tokenizer.FindToken("<|eot_id|>") ?? throw new InvalidOperationException("no <|eot_id|>")];
        var matcher = new GrammarMatcher(Compile(schema), Vocabulary);
        foreach (int token in tokens)
        {
            if (!matcher.Accept(token))
            {
                throw new InvalidOperationException($"the grammar refuses token {token} ('{Tokenizer.GetText(token)}') of the answer");
            }
        }

        return tokens;
    }

    private static string SharedDirectory()
    {
        if (Environment.GetEnvironmentVariable("FATHOM_SHARED") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "llama3", "tokenizer.model");
            if (File.Exists(candidate))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            }
        }

        throw new InvalidOperationException("Set FATHOM_SHARED to the shared test data folder.");
    }
}
