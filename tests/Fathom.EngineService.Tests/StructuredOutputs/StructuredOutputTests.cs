using System.ClientModel;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;
using Json.Schema;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.EngineService.Tests.StructuredOutputs;

/// <summary>
/// OpenAI structured outputs through the official .NET client against the real engine service on stories260K: the
/// answer is constrained to the schema, so even a 260K-parameter story model returns JSON that a real JSON Schema
/// validator (JsonSchema.Net, formats checked) accepts — for schemas covering every supported keyword, streamed and not.
/// </summary>
public sealed class StructuredOutputTests(ToolTemplateEngineFixture engine) : IClassFixture<ToolTemplateEngineFixture>
{
    /// <summary>Schemas that together use every keyword of the supported subset.</summary>
    public static TheoryData<string, string> Schemas
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var (name, schema) in SchemaTexts)
            {
                data.Add(name, schema);
            }

            return data;
        }
    }

    private static readonly Dictionary<string, string> SchemaTexts = new()
    {
        ["object"] = """
            {"type":"object","properties":{"name":{"type":"string"},"alive":{"type":"boolean"},"nothing":{"type":"null"},
             "kind":{"enum":["cat","dog",3]},"version":{"const":2}},
             "required":["name","alive","nothing","kind","version"],"additionalProperties":false}
            """,
        ["numbers"] = """
            {"type":"object","properties":{"age":{"type":"integer","minimum":1,"maximum":99},
             "score":{"type":"number","minimum":-5.5,"maximum":5.5},
             "level":{"type":"integer","exclusiveMinimum":-3,"exclusiveMaximum":3},
             "ratio":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":10}},
             "required":["age","score","level","ratio"],"additionalProperties":false}
            """,
        ["strings"] = """
            {"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2}$"},
             "when":{"type":"string","format":"date-time"},"day":{"type":"string","format":"date"},
             "at":{"type":"string","format":"time"},"id":{"type":"string","format":"uuid"}},
             "required":["code","when","day","at","id"],"additionalProperties":false}
            """,
        ["lengths"] = """
            {"type":"object","properties":{"short":{"type":"string","minLength":2,"maxLength":5},"up_to_3":{"type":"string","maxLength":3}},
             "required":["short","up_to_3"],"additionalProperties":false}
            """,
        ["email"] = """
            {"type":"object","properties":{"mail":{"type":"string","format":"email"}},"required":["mail"],"additionalProperties":false}
            """,
        ["unions"] = """
            {"type":"object","properties":{"either":{"anyOf":[{"type":"integer","minimum":0,"maximum":9},{"type":"boolean"}]},
             "maybe":{"type":["integer","null"]}},"required":["either","maybe"],"additionalProperties":false}
            """,
        ["arrays"] = """
            {"type":"object","properties":{"tags":{"type":"array","items":{"enum":["a","b","c"]},"minItems":1,"maxItems":3},
             "pairs":{"type":"array","items":{"type":"integer","minimum":0,"maximum":5},"minItems":2,"maxItems":2}},
             "required":["tags","pairs"],"additionalProperties":false}
            """,
        ["recursive"] = """
            {"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer","minimum":0,"maximum":9},
             "next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["value","next"],"additionalProperties":false}},
             "$ref":"#/$defs/node"}
            """,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ChatClient Client() => new(SharedFixtures.Stories260KName, new ApiKeyCredential("unused"),
        new OpenAIClientOptions { Endpoint = new Uri(engine.Require().BaseAddress, "v1"), NetworkTimeout = TimeSpan.FromMinutes(5) });

    // stories260K's ids of '@' (a byte token), '"' and 'a"' style closing quotes, and '}'.
    private const int At = 67, Quote = 313, ClosingQuote = 436, CloseBrace = 128;

    private static ChatCompletionOptions Options(string name, string schema)
    {
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat(name, BinaryData.FromString(schema), jsonSchemaIsStrict: true),
            Temperature = 0,
            MaxOutputTokenCount = 440,
        };
        if (name == "email")
        {
            // A story model never stops writing the free local part of an address on its own (within the context):
            // logit_bias, applied before the mask, favours '@' and closing quotes wherever the grammar allows them.
            options.LogitBiases.Add(At, 30);
            options.LogitBiases.Add(Quote, 30);
            options.LogitBiases.Add(ClosingQuote, 30);
        }

        return options;
    }

    [Theory]
    [MemberData(nameof(Schemas))]
    public async Task The_answer_is_JSON_that_the_schema_accepts_streamed_or_not(string name, string schema)
    {
        var client = Client();
        List<ChatMessage> messages = [new UserChatMessage("Tell me about a cat.")];

        ChatCompletion whole = await client.CompleteChatAsync(messages, Options(name, schema), Ct);
        Assert.Equal(ChatFinishReason.Stop, whole.FinishReason);
        string content = whole.Content[0].Text;
        AssertValid(schema, content);

        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, Options(name, schema), Ct))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(content, streamed.ToString()); // greedy: the same tokens either way
        AssertValid(schema, streamed.ToString());
    }

    [Fact]
    public async Task Json_object_mode_gives_a_JSON_object_and_each_of_n_sampled_choices_is_valid()
    {
        var (status, body) = await engine.Require().PostAsync("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "A dog." } },
            response_format = new { type = "json_schema", json_schema = new { name = "pet", schema = JsonNode.Parse(SchemaTexts["arrays"]) } },
            n = 3,
            temperature = 1.0,
            seed = 7,
            max_tokens = 440,
        });
        Assert.Equal(200, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(3, choices.Count);
        foreach (var choice in choices)
        {
            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            AssertValid(SchemaTexts["arrays"], choice.GetProperty("message").GetProperty("content").GetString()!);
        }

        ChatCompletion json = await Client().CompleteChatAsync([new UserChatMessage("A bird.")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(), Temperature = 0, MaxOutputTokenCount = 440, LogitBiases = { [CloseBrace] = 30 } }, Ct);
        Assert.Equal(ChatFinishReason.Stop, json.FinishReason);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(json.Content[0].Text).RootElement.ValueKind);
    }

    [Fact]
    public async Task Concurrent_requests_with_different_schemas_each_get_their_own()
    {
        var client = Client();
        var picked = SchemaTexts.Select(kv => (kv.Key, kv.Value)).Where(s => s.Key is "object" or "numbers" or "unions" or "arrays").ToList();
        var answers = await Task.WhenAll(picked.Select(s => client.CompleteChatAsync([new UserChatMessage("Go.")], Options(s.Key, s.Value), Ct)));
        for (int i = 0; i < picked.Count; i++)
        {
            Assert.Equal(ChatFinishReason.Stop, answers[i].Value.FinishReason);
            AssertValid(picked[i].Value, answers[i].Value.Content[0].Text);
        }

        // Plain text alongside, unconstrained: the story model writes prose, not JSON.
        ChatCompletion text = await client.CompleteChatAsync([new UserChatMessage("Tell me a story.")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12, ResponseFormat = ChatResponseFormat.CreateTextFormat() }, Ct);
        Assert.DoesNotContain("{", text.Content[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_keyword_the_compiler_does_not_support_is_a_400_naming_it()
    {
        using var response = await engine.Require().Http.PostAsync("/v1/chat/completions", CompletionsTests.JsonContent(new
        {
            messages = new[] { new { role = "user", content = "Hi" } },
            response_format = new { type = "json_schema", json_schema = new { name = "x", schema = new { type = "object", patternProperties = new { a = new { type = "string" } } } } },
        }), Ct);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error");
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("response_format", error.GetProperty("param").GetString());
        Assert.Contains("patternProperties", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        var (status, body) = await engine.PostAsync("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Hi" } },
            response_format = new { type = "xml" },
        });
        Assert.Equal(400, status);
        Assert.Equal("response_format", body.GetProperty("error").GetProperty("param").GetString());
    }

    // Semantic Kernel and other schema writers add annotations (description, title, default, examples, $schema) and
    // keywords outside JSON Schema (which JSON Schema treats as annotations): the compiler ignores them, while a standard
    // validation keyword it does not support is still a 400 naming it, wherever it sits.
    [Fact]
    public async Task Annotations_are_ignored_and_an_unsupported_validation_keyword_beside_them_is_a_400_naming_it()
    {
        const string annotated = """
            {"title":"Pick","description":"A pick.","x-origin":"sk",
             "type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":3,"description":"How many.","default":2,
             "examples":[1],"deprecated":false,"condition":"always"}},
             "required":["n"],"additionalProperties":false}
            """;

        // JsonSchema.Net refuses keywords outside its dialect, so the answer is checked against the same schema without them.
        const string bare = """
            {"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":3}},"required":["n"],"additionalProperties":false}
            """;
        var (status, body) = await engine.Require().PostAsync("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Pick." } },
            response_format = new { type = "json_schema", json_schema = new { name = "pick", schema = JsonNode.Parse(annotated) } },
            temperature = 0,
            max_tokens = 440,
        });
        Assert.Equal(200, status);
        Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        string content = body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        AssertValid(bare, content);

        var (refused, error) = await engine.Require().PostAsync("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Pick." } },
            response_format = new
            {
                type = "json_schema",
                json_schema = new { name = "pick", schema = JsonNode.Parse("""{"type":"object","description":"d","properties":{"tags":{"type":"array","title":"t","uniqueItems":true}}}""") },
            },
        });
        Assert.Equal(400, refused);
        Assert.Equal("response_format", error.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("uniqueItems", error.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completions_take_a_response_format_too()
    {
        var (status, body) = await engine.Require().PostAsync("/v1/completions", new
        {
            prompt = "Once upon a time",
            response_format = new { type = "json_schema", json_schema = new { name = "n", schema = JsonNode.Parse(SchemaTexts["unions"]) } },
            temperature = 0,
            max_tokens = 440,
        });
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        AssertValid(SchemaTexts["unions"], choice.GetProperty("text").GetString()!);
    }

    /// <summary>Validates <paramref name="json"/> against <paramref name="schema"/> with formats asserted.</summary>
    internal static void AssertValid(string schema, string json)
    {
        using var document = JsonDocument.Parse(json);
        var result = JsonSchema.FromText(schema).Evaluate(document.RootElement, new EvaluationOptions { RequireFormatValidation = true, OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"not valid against the schema: {json}\n{JsonSerializer.Serialize(result)}");
    }
}
