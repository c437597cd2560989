using System.Text;
using System.Text.Json;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.OpenAi;

/// <summary>
/// DeepSeek-R1's reasoning split, end to end: stories260K re-packed with DeepSeek-R1's real chat template. The
/// template opens <c>&lt;think&gt;</c> and the story model never closes it, so everything it writes is reasoning.
/// </summary>
public sealed class ReasoningTests
{
    [Fact]
    public async Task A_DeepSeek_R1_template_puts_the_text_in_reasoning_content_streaming_or_not()
    {
        string template = await File.ReadAllTextAsync(SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/chat_template.jinja"),
            TestContext.Current.CancellationToken);
        string path = Path.Combine(Path.GetTempPath(), $"fathom-r1-stories-{Guid.NewGuid():N}.gguf");
        try
        {
            WithTemplate(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), template, path);
            await using var service = await EngineServiceProcess.StartAsync(path, ["--served-model-name", "r1"]);
            using var http = new HttpClient { BaseAddress = service.BaseAddress };
            var request = new { model = "r1", messages = new[] { new { role = "user", content = "Tell me a story." } }, max_tokens = 16, temperature = 0 };

            using var whole = await http.PostAsync("/v1/chat/completions", CompletionsTests.JsonContent(request), TestContext.Current.CancellationToken);
            var message = JsonDocument.Parse(await whole.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))
                .RootElement.GetProperty("choices")[0].GetProperty("message");
            string reasoning = message.GetProperty("reasoning_content").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(reasoning));
            Assert.Equal("", message.GetProperty("content").GetString());

            using var streamed = await http.PostAsync("/v1/chat/completions",
                CompletionsTests.JsonContent(new { request.model, request.messages, request.max_tokens, request.temperature, stream = true }),
                TestContext.Current.CancellationToken);
            var deltas = (await streamed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))
                .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
                .Select(e => e.Trim()["data: ".Length..])
                .Where(d => d != "[DONE]")
                .Select(d => JsonDocument.Parse(d).RootElement.GetProperty("choices")[0].GetProperty("delta"))
                .ToList();
            var streamedReasoning = new StringBuilder();
            foreach (var delta in deltas)
            {
                if (delta.TryGetProperty("reasoning_content", out var r))
                {
                    streamedReasoning.Append(r.GetString());
                }

                Assert.True(!delta.TryGetProperty("content", out var c) || c.GetString() == "");
            }

            Assert.Equal(reasoning, streamedReasoning.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    // A copy of the GGUF at source with tokenizer.chat_template set.
    internal static void WithTemplate(string source, string template, string destination) =>
        GgufTemplateCopy.Write(source, template, destination);
}
