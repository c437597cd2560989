using System.Net;
using System.Text.Json;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.Templates;

/// <summary>
/// A request with tools on a model whose template never reads <c>tools</c>: the DeepSeek-R1 family gets Fathom's
/// bundled tool template (the tools reach the prompt); any other model answers 400 naming <c>--chat-template</c>.
/// </summary>
public sealed class ToolsTemplateSelectionTests
{
    private static readonly object[] Tools =
    [
        new
        {
            type = "function",
            function = new
            {
                name = "get_weather",
                description = "Gets the current weather for a city.",
                parameters = new { type = "object", properties = new { city = new { type = "string" } }, required = new[] { "city" } },
            },
        },
    ];

    private static readonly object[] Messages = [new { role = "user", content = "What is the weather in Lisbon?" }];

    [Fact]
    public async Task Tools_on_a_template_without_them_and_no_known_family_are_a_400_naming_chat_template()
    {
        var ct = TestContext.Current.CancellationToken;
        // stories260K has no template: the ChatML fallback, which renders no tools.
        await using var service = await EngineServiceProcess.StartAsync(arguments: ["--served-model-name", "plain"]);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        using var response = await http.PostAsync("/v1/chat/completions",
            CompletionsTests.JsonContent(new { model = "plain", messages = Messages, tools = Tools, max_tokens = 2 }), ct);
        var error = await ErrorTests.ErrorOf(response, HttpStatusCode.BadRequest);

        Assert.Equal("tools", error.GetProperty("param").GetString());
        Assert.Contains("--chat-template", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        using var plain = await http.PostAsync("/v1/chat/completions",
            CompletionsTests.JsonContent(new { model = "plain", messages = Messages, max_tokens = 2 }), ct);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task The_DeepSeek_R1_family_renders_tools_with_the_bundled_template()
    {
        var ct = TestContext.Current.CancellationToken;
        string template = await File.ReadAllTextAsync(SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/chat_template.jinja"), ct);
        string path = Path.Combine(Path.GetTempPath(), $"fathom-r1-tools-{Guid.NewGuid():N}.gguf");
        try
        {
            ReasoningTests.WithTemplate(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), template, path);
            await using var service = await EngineServiceProcess.StartAsync(path, ["--served-model-name", "r1"]);
            using var http = new HttpClient { BaseAddress = service.BaseAddress };

            var plain = await PostAsync(http, new { model = "r1", messages = Messages, max_tokens = 2, temperature = 0 }, ct);
            var withTools = await PostAsync(http, new { model = "r1", messages = Messages, tools = Tools, max_tokens = 2, temperature = 0 }, ct);

            static int PromptTokens(JsonElement body) => body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
            Assert.True(PromptTokens(withTools) > PromptTokens(plain) + 50, "the bundled template lists the tools and the call syntax");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, object body, CancellationToken ct)
    {
        using var response = await http.PostAsync("/v1/chat/completions", CompletionsTests.JsonContent(body), ct);
        string text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
