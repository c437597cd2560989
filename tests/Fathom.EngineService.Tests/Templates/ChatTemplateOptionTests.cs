using System.Net;
using System.Text.Json;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.Templates;

/// <summary>
/// <c>--chat-template FILE</c>: stories260K has no template of its own (the ChatML fallback, which renders no tools);
/// started with a short Llama-3-style template that renders tools, the tools reach the prompt.
/// </summary>
public sealed class ChatTemplateOptionTests
{
    /// <summary>A short Llama-3-style template that renders the tools as JSON in the system turn.</summary>
    internal const string ToolsTemplate =
        "{{- bos_token }}{%- if tools %}<|start_header_id|>system<|end_header_id|>\n\nTools:\n{%- for t in tools %}\n{{ t | tojson }}{%- endfor %}<|eot_id|>{%- endif %}"
        + "{%- for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{%- endfor %}"
        + "{%- if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{%- if enable_thinking is defined and not enable_thinking %}I will answer without thinking about it at length.{%- endif %}{%- endif %}";

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
    public async Task A_template_file_replaces_the_models_own_and_renders_the_tools()
    {
        var ct = TestContext.Current.CancellationToken;
        string template = Path.Combine(Path.GetTempPath(), $"fathom-template-{Guid.NewGuid():N}.jinja");
        await File.WriteAllTextAsync(template, ToolsTemplate, ct);
        try
        {
            await using var service = await EngineServiceProcess.StartAsync(arguments: ["--served-model-name", "tpl", "--chat-template", template]);
            using var http = new HttpClient { BaseAddress = service.BaseAddress };
            var messages = new[] { new { role = "user", content = "What is the weather in Lisbon?" } };

            var plain = await PostAsync(http, new { model = "tpl", messages, max_tokens = 2, temperature = 0 }, ct);
            var withTools = await PostAsync(http, new { model = "tpl", messages, tools = new[] { WeatherTool }, max_tokens = 2, temperature = 0 }, ct);

            Assert.Equal(HttpStatusCode.OK, plain.Status);
            Assert.Equal(HttpStatusCode.OK, withTools.Status);
            static int PromptTokens(JsonElement body) => body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
            Assert.True(PromptTokens(withTools.Body) > PromptTokens(plain.Body) + 20, "the tool definition is rendered into the prompt");

            // chat_template_kwargs are template variables: enable_thinking=false makes this template add a sentence.
            var noThinking = await PostAsync(http, new { model = "tpl", messages, max_tokens = 2, temperature = 0, chat_template_kwargs = new { enable_thinking = false } }, ct);
            var thinking = await PostAsync(http, new { model = "tpl", messages, max_tokens = 2, temperature = 0, chat_template_kwargs = new { enable_thinking = true } }, ct);
            Assert.Equal(HttpStatusCode.OK, noThinking.Status);
            Assert.True(PromptTokens(noThinking.Body) > PromptTokens(plain.Body) + 5, "enable_thinking=false reached the template");
            Assert.Equal(PromptTokens(plain.Body), PromptTokens(thinking.Body));

            foreach (string bad in new[] { """{"messages":[]}""", """{"bos_token":"x"}""", """{"a b":1}""", "[1]", "\"x\"" })
            {
                using var response = await http.PostAsync("/v1/chat/completions", new StringContent(
                    $$"""{"model":"tpl","messages":[{"role":"user","content":"hi"}],"max_tokens":1,"chat_template_kwargs":{{bad}}}""",
                    System.Text.Encoding.UTF8, "application/json"), ct);
                var error = (await ErrorTests.ErrorOf(response, HttpStatusCode.BadRequest));
                Assert.Equal("chat_template_kwargs", error.GetProperty("param").GetString());
            }
        }
        finally
        {
            File.Delete(template);
        }
    }

    [Fact]
    public async Task A_missing_template_file_fails_the_load_with_a_message_naming_it()
    {
        var ct = TestContext.Current.CancellationToken;
        string missing = Path.Combine(Path.GetTempPath(), $"fathom-missing-template-{Guid.NewGuid():N}.jinja");
        await using var service = await EngineServiceProcess.StartAsync(arguments: ["--chat-template", missing], readyPath: "/alive");
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        // The load runs in the background: poll until the log reports the failure; the process stays up, not ready.
        for (int i = 0; i < 400 && !service.Output.Contains("could not be loaded", StringComparison.Ordinal); i++)
            await Task.Delay(50, ct);

        Assert.True(service.IsRunning);
        Assert.Contains(missing, service.Output, StringComparison.Ordinal);
        Assert.Contains("does not exist", service.Output, StringComparison.Ordinal);
        using var ready = await http.GetAsync("/health/ready", ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, object body, CancellationToken ct)
    {
        using var response = await http.PostAsync("/v1/chat/completions", CompletionsTests.JsonContent(body), ct);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.Clone());
    }
}
