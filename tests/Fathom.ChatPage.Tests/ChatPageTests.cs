using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fathom.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Fathom.ChatPage.Tests;

/// <summary>The chat page both services serve at <c>/</c>, driven in headless chromium against the real services.</summary>
public sealed partial class ChatPageTests(ChatPageServices services) : IClassFixture<ChatPageServices>
{
    private const string Story = "Once upon a time";

    // A slow, shared CI machine: a streamed answer of a few dozen tokens can take seconds.
    private static readonly LocatorAssertionsToContainTextOptions Patient = new() { Timeout = 90_000 };

    [Fact]
    public async Task A_lone_engine_page_streams_an_answer_with_its_numbers_and_keeps_the_conversation()
    {
        var page = await services.NewPageAsync();
        await page.GotoAsync(services.Require().Engine.BaseAddress.ToString());
        await Expect(page.Locator("#model")).ToHaveValueAsync(SharedFixtures.Stories260KName);
        await SettingsAsync(page, temperature: "0", maxTokens: "24");
        await RecordAnswerTextsAsync(page);

        await page.FillAsync("#message", Story);
        await page.PressAsync("#message", "Enter");

        var first = page.Locator(".message.assistant").Nth(0);
        await Expect(first.Locator(".stats")).ToContainTextAsync("tokens/s", Patient);
        var stats = Stats(await first.Locator(".stats").TextContentAsync());
        var answer = await first.Locator(".content").TextContentAsync();
        Assert.False(string.IsNullOrWhiteSpace(answer));
        Assert.Equal(24, stats.Tokens);
        // Streamed: the answer was on screen in several stages (empty, partial..., whole), not only at the end.
        Assert.True(await page.EvaluateAsync<int>("() => window.seenAnswers.size") >= 3);
        await Expect(first.Locator(".reasoning")).ToBeHiddenAsync();

        // The conversation and settings survive a reload (localStorage).
        await page.ReloadAsync();
        await Expect(page.Locator(".message.user .content")).ToHaveTextAsync(Story);
        await Expect(first.Locator(".content")).ToHaveTextAsync(answer!);
        await Expect(page.Locator("#max-tokens")).ToHaveValueAsync("24");

        // Markup typed by the user (or written by the model) is shown as text, never parsed.
        const string Markup = "<img src=x onerror=\"window.pwned=1\"><b>bold</b>";
        await page.FillAsync("#message", Markup);
        var sent = await page.RunAndWaitForRequestAsync(() => page.ClickAsync("#send"), r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));
        // The whole conversation goes with it, asking for the usage that the numbers come from.
        using (var body = JsonDocument.Parse(sent.PostData!))
        {
            var messages = body.RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => (m.GetProperty("role").GetString(), m.GetProperty("content").GetString())).ToArray();
            Assert.Equal([("user", Story), ("assistant", answer), ("user", Markup)], messages);
            Assert.True(body.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
            Assert.Equal(24, body.RootElement.GetProperty("max_tokens").GetInt32());
            Assert.Equal(0, body.RootElement.GetProperty("temperature").GetDouble());
        }

        var second = page.Locator(".message.assistant").Nth(1);
        await Expect(second.Locator(".stats")).ToContainTextAsync("tokens/s", Patient);
        await Expect(page.Locator(".message.user .content").Nth(1)).ToHaveTextAsync(Markup);
        Assert.Equal(0, await page.Locator("#messages img, #messages b").CountAsync());
        Assert.False(await page.EvaluateAsync<bool>("() => window.pwned === 1"));
        // The second prompt holds the first turn, whose start the prefix cache already had: the page shows it cached.
        var next = Stats(await second.Locator(".stats").TextContentAsync());
        Assert.True(next.Prompt > stats.Prompt + stats.Tokens, $"{next.Prompt} vs {stats.Prompt} + {stats.Tokens}");
        Assert.True(next.Cached > 0, $"cached {next.Cached}");

        // New chat forgets it, across a reload too.
        await page.ClickAsync("#new-chat");
        await page.ReloadAsync();
        await Expect(page.Locator("#model")).ToHaveValueAsync(SharedFixtures.Stories260KName);
        Assert.Equal(0, await page.Locator(".message").CountAsync());
    }

    [Fact]
    public async Task A_DeepSeek_R1_template_streams_into_a_collapsible_reasoning_block()
    {
        var page = await services.NewPageAsync();
        await page.GotoAsync(services.Require().ReasoningEngine.BaseAddress.ToString());
        await Expect(page.Locator("#model")).ToHaveValueAsync(ChatPageServices.ReasoningModel);
        await SettingsAsync(page, temperature: "0", maxTokens: "40");

        await page.FillAsync("#message", "Tell me a story.");
        await page.ClickAsync("#send");

        var answer = page.Locator(".message.assistant");
        await Expect(answer.Locator(".stats")).ToContainTextAsync("tokens/s", Patient);
        var reasoning = answer.Locator("details.reasoning");
        await Expect(reasoning).ToBeVisibleAsync();
        // The template opens <think> and the story model never closes it: every token is reasoning.
        await Expect(reasoning.Locator("summary")).ToHaveTextAsync("Reasoning (40 tokens)");
        await Expect(answer.Locator(".content")).ToHaveTextAsync("");
        // Collapsed until opened.
        await Expect(reasoning.Locator(".reasoning-text")).ToBeHiddenAsync();
        await reasoning.Locator("summary").ClickAsync();
        await Expect(reasoning.Locator(".reasoning-text")).ToBeVisibleAsync();
        var text = await reasoning.Locator(".reasoning-text").TextContentAsync();
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.DoesNotContain("<think>", text);

        if (Environment.GetEnvironmentVariable("FATHOM_UPDATE_SCREENSHOT") == "1")
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepositoryRoot.Find(), "docs", "images", "chat-page.png") });
        }
    }

    [Fact]
    public async Task Behind_the_API_the_page_loads_without_a_key_asks_for_one_and_shows_a_bad_one_as_an_error()
    {
        var api = services.Require().Api.BaseAddress;
        using (var http = new HttpClient { BaseAddress = api })
        {
            // The page and its assets hold no secret; the API calls it makes still need the key.
            foreach (var path in new[] { "/", "/chat-page/chat.js", "/chat-page/chat.css" })
            {
                using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
            }

            using var models = await http.GetAsync("/v1/models", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        }

        var page = await services.NewPageAsync();
        await page.GotoAsync(api.ToString());
        await Expect(page.Locator("#key-dialog")).ToBeVisibleAsync();
        await Expect(page.Locator("#error")).ToContainTextAsync("401");

        await page.FillAsync("#api-key", "not-the-key");
        await page.ClickAsync("#save-key");
        await Expect(page.Locator("#error")).ToContainTextAsync("Incorrect API key");
        await Expect(page.Locator("#key-dialog")).ToBeVisibleAsync();

        await page.FillAsync("#api-key", ChatPageServices.ApiKey);
        await page.ClickAsync("#save-key");
        await Expect(page.Locator("#model")).ToHaveValueAsync(SharedFixtures.Stories260KName);
        await Expect(page.Locator("#key-dialog")).ToBeHiddenAsync();
        await Expect(page.Locator("#error")).ToBeHiddenAsync();
        await SettingsAsync(page, temperature: "0", maxTokens: "8");
        await page.FillAsync("#message", Story);
        await page.ClickAsync("#send");
        await Expect(page.Locator(".message.assistant .stats")).ToContainTextAsync("tokens/s", Patient);
        Assert.False(string.IsNullOrWhiteSpace(await page.Locator(".message.assistant .content").TextContentAsync()));
        // The key stays in this tab's session, never in the conversation's long-lived storage.
        Assert.Equal(ChatPageServices.ApiKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('fathom.apiKey')"));
        Assert.DoesNotContain(ChatPageServices.ApiKey, await page.EvaluateAsync<string>("() => JSON.stringify(localStorage)"));
    }

    // The settings sit in a folded <details>, opened as a user would.
    private static async Task SettingsAsync(IPage page, string temperature, string maxTokens)
    {
        if (!await page.Locator("#settings").EvaluateAsync<bool>("details => details.open"))
        {
            await page.ClickAsync("#settings summary");
        }

        await page.FillAsync("#temperature", temperature);
        await page.FillAsync("#max-tokens", maxTokens);
    }

    // Every text the answers show, as they change.
    private static Task RecordAnswerTextsAsync(IPage page) => page.EvaluateAsync("""
        () => {
          window.seenAnswers = new Set();
          new MutationObserver(() => {
            for (const node of document.querySelectorAll('.message.assistant .content')) window.seenAnswers.add(node.textContent);
          }).observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true });
        }
        """);

    private static (int Tokens, int Prompt, int Cached) Stats(string? text)
    {
        var match = StatsPattern().Match(text ?? "");
        Assert.True(match.Success, $"stats line '{text}'");
        int Number(int group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);
        return (Number(1), Number(2), Number(3));
    }

    [GeneratedRegex(@"^(\d+) tokens · [\d.]+ tokens/s · TTFT \d+ ms · prompt (\d+) tokens, (\d+) cached$")]
    private static partial Regex StatsPattern();
}
