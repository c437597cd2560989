using System.Text;
using System.Text.Json;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.StructuredOutputs;

/// <summary>
/// The DeepSeek-R1 family end to end: stories260K re-packed with DeepSeek-R1's real chat template. The reasoning stays
/// free; the constraint starts after <c>&lt;/think&gt;</c> (forced after <c>max_reasoning_tokens</c>, since a story
/// model never closes it) and the answer is a call in DeepSeek's <c>&lt;｜tool▁calls▁begin｜&gt;</c> syntax.
/// </summary>
public sealed class DeepSeekToolCallTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Reasoning_comes_first_then_a_constrained_call_streamed_or_not()
    {
        string template = await File.ReadAllTextAsync(SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/chat_template.jinja"), Ct);
        string path = Path.Combine(Path.GetTempPath(), $"fathom-r1-tools-{Guid.NewGuid():N}.gguf");
        try
        {
            ReasoningTests.WithTemplate(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), template, path);
            await using var service = await EngineServiceProcess.StartAsync(path, ["--served-model-name", "r1"]);
            using var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            object Request(bool stream) => new
            {
                model = "r1",
                messages = new[] { new { role = "user", content = "What is the weather in Oslo?" } },
                tools = new[] { new { type = "function", function = new { name = "get_weather", parameters = JsonDocument.Parse(ToolChoiceTests.WeatherParameters).RootElement } } },
                tool_choice = new { type = "function", function = new { name = "get_weather" } },
                max_reasoning_tokens = 12,
                max_tokens = 300,
                temperature = 0,
                stream,
            };

            using var whole = await http.PostAsync("/v1/chat/completions", CompletionsTests.JsonContent(Request(false)), Ct);
            string text = await whole.Content.ReadAsStringAsync(Ct);
            var choice = JsonDocument.Parse(text).RootElement.GetProperty("choices")[0];
            var message = choice.GetProperty("message");
            Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
            Assert.False(string.IsNullOrWhiteSpace(message.GetProperty("reasoning_content").GetString()), text);
            var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray().ToList());
            Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
            string arguments = call.GetProperty("function").GetProperty("arguments").GetString()!;
            StructuredOutputTests.AssertValid(ToolChoiceTests.WeatherParameters, arguments);

            using var streamed = await http.PostAsync("/v1/chat/completions", CompletionsTests.JsonContent(Request(true)), Ct);
            var reasoning = new StringBuilder();
            var streamedArguments = new StringBuilder();
            string? name = null, finish = null;
            foreach (var data in (await streamed.Content.ReadAsStringAsync(Ct)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
                .Select(e => e.Trim()["data: ".Length..]).Where(d => d != "[DONE]"))
            {
                var chunk = JsonDocument.Parse(data).RootElement.GetProperty("choices")[0];
                var delta = chunk.GetProperty("delta");
                if (delta.TryGetProperty("reasoning_content", out var r))
                {
                    Assert.Null(name); // reasoning first
                    reasoning.Append(r.GetString());
                }

                if (delta.TryGetProperty("tool_calls", out var calls))
                {
                    foreach (var part in calls.EnumerateArray())
                    {
                        var function = part.GetProperty("function");
                        name ??= function.TryGetProperty("name", out var n) ? n.GetString() : null;
                        streamedArguments.Append(function.TryGetProperty("arguments", out var a) ? a.GetString() : "");
                    }
                }

                finish = chunk.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : finish;
            }

            Assert.Equal(message.GetProperty("reasoning_content").GetString(), reasoning.ToString());
            Assert.Equal("get_weather", name);
            Assert.Equal(arguments, streamedArguments.ToString());
            Assert.Equal("tool_calls", finish);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
