using System.Text.Json;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.OpenAi;

/// <summary>
/// <c>tools</c> reach the model through its chat template: stories260K re-packed with Llama-3.1's template, which
/// writes the tool definitions into the prompt. (The parsers that turn generated text into <c>tool_calls</c> are
/// tested on the exact formats in the engine's template tests; a story model never writes a call by itself.)
/// </summary>
public sealed class ToolsTests
{
    private static readonly object WeatherTool = new
    {
        type = "function",
        function = new
        {
            name = "get_weather",
            description = "Gets the current weather for a city.",
            parameters = new { type = "object", properties = new { city = new { type = "string" } }, required = new[] { "city" } },
        },
    };

    [Fact]
    public async Task Tools_are_rendered_into_the_prompt_and_malformed_tools_are_rejected()
    {
        var ct = TestContext.Current.CancellationToken;
        string template = await File.ReadAllTextAsync(
            Path.Combine(RepositoryRoot.Find(), "tests", "Fathom.Engine.Tests", "Templates", "Data", "llama-3.1-instruct.jinja"), ct);
        string path = Path.Combine(Path.GetTempPath(), $"fathom-tools-stories-{Guid.NewGuid():N}.gguf");
        try
        {
            ReasoningTests.WithTemplate(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), template, path);
            await using var service = await EngineServiceProcess.StartAsync(path, ["--served-model-name", "tools"]);
            using var http = new HttpClient { BaseAddress = service.BaseAddress };
            var messages = new[] { new { role = "user", content = "What is the weather in Lisbon?" } };

            var plain = await PostAsync(http, new { model = "tools", messages, max_tokens = 2, temperature = 0 }, ct);
            var withTools = await PostAsync(http, new { model = "tools", messages, tools = new[] { WeatherTool }, max_tokens = 2, temperature = 0 }, ct);
            var toolChoiceNone = await PostAsync(http, new { model = "tools", messages, tools = new[] { WeatherTool }, tool_choice = "none", max_tokens = 2, temperature = 0 }, ct);

            Assert.Equal(200, plain.Status);
            Assert.Equal(200, withTools.Status);
            Assert.Equal(200, toolChoiceNone.Status);
            int PromptTokens(JsonElement body) => body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
            Assert.True(PromptTokens(withTools.Body) > PromptTokens(plain.Body) + 20, "the tool definition is rendered into the prompt");
            Assert.Equal(PromptTokens(withTools.Body), PromptTokens(toolChoiceNone.Body));
            Assert.Equal("length", withTools.Body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

            var notAnArray = await PostAsync(http, new { model = "tools", messages, tools = "get_weather" }, ct);
            var noName = await PostAsync(http, new { model = "tools", messages, tools = new[] { new { type = "function", function = new { description = "x" } } } }, ct);
            var badChoice = await PostAsync(http, new { model = "tools", messages, tools = new[] { WeatherTool }, tool_choice = "sometimes" }, ct);
            foreach (var (status, body, param) in new[] { (notAnArray.Status, notAnArray.Body, "tools"), (noName.Status, noName.Body, "tools"), (badChoice.Status, badChoice.Body, "tool_choice") })
            {
                Assert.Equal(400, status);
                Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient http, object body, CancellationToken ct)
    {
        using var response = await http.PostAsync("/v1/chat/completions", CompletionsTests.JsonContent(body), ct);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.Clone());
    }
}
