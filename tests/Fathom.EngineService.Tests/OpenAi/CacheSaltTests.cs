using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.OpenAi;

/// <summary>
/// <c>cache_salt</c> through the real engine service: a prompt cached under one salt is reported as
/// <c>cached_tokens: 0</c> under another salt (or none), and as cached under its own.
/// </summary>
public sealed class CacheSaltTests(EngineServiceFixture fixture)
{
    /// <summary>87 token ids no other test sends: 5 full 16-token blocks before the one holding the last token.</summary>
    private static int[] UniquePrompt()
    {
        var random = new Random(Guid.NewGuid().GetHashCode());
        return [1, .. Enumerable.Range(0, 86).Select(_ => random.Next(3, 512))];
    }

    private async Task<(string Text, int PromptTokens, int Cached)> CompleteAsync(int[] prompt, string? salt)
    {
        object body = salt is null
            ? new { prompt, max_tokens = 4, temperature = 0 }
            : new { prompt, max_tokens = 4, temperature = 0, cache_salt = salt };
        var (status, json) = await fixture.Require().PostAsync("/v1/completions", body);
        Assert.True(status == 200, json.ToString());
        return (json.GetProperty("choices")[0].GetProperty("text").GetString()!, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), Cached(json));
    }

    private static int Cached(JsonElement response) =>
        response.GetProperty("usage").TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
            ? details.GetProperty("cached_tokens").GetInt32()
            : 0;

    [Fact]
    public async Task Two_salts_never_see_each_others_cached_prefix_and_each_sees_its_own()
    {
        int[] prompt = UniquePrompt();

        var a1 = await CompleteAsync(prompt, "tenant-a");
        var a2 = await CompleteAsync(prompt, "tenant-a");
        var b1 = await CompleteAsync(prompt, "tenant-b");
        var none = await CompleteAsync(prompt, salt: null);
        var b2 = await CompleteAsync(prompt, "tenant-b");

        Assert.Equal(87, a1.PromptTokens);
        Assert.Equal(0, a1.Cached);
        Assert.Equal(5 * 16, a2.Cached);
        Assert.Equal(0, b1.Cached);
        Assert.Equal(0, none.Cached);
        Assert.Equal(5 * 16, b2.Cached);
        Assert.All(new[] { a2, b1, none, b2 }, r => Assert.Equal(a1.Text, r.Text)); // the salt changes the cache, not the answer
    }

    [Fact]
    public async Task Chat_completions_take_the_salt_too()
    {
        string nonce = Guid.NewGuid().ToString("N");
        var messages = new[] { new { role = "user", content = $"{nonce} " + string.Concat(Enumerable.Repeat("The little dog ran to the park and played with a ball. ", 6)) } };
        async Task<int> CachedAsync(string salt)
        {
            var (status, json) = await fixture.Require().PostAsync("/v1/chat/completions", new { messages, max_tokens = 2, temperature = 0, cache_salt = salt });
            Assert.True(status == 200, json.ToString());
            return Cached(json);
        }

        Assert.Equal(0, await CachedAsync("tenant-a"));
        Assert.True(await CachedAsync("tenant-a") > 32);
        Assert.Equal(0, await CachedAsync("tenant-b"));
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("42")]
    [InlineData("[\"a\"]")]
    [InlineData("\"LONG\"")]
    public async Task A_salt_that_is_not_a_non_empty_string_is_a_400_naming_it(string salt)
    {
        string value = salt == "\"LONG\"" ? $"\"{new string('s', 1025)}\"" : salt;
        foreach (string path in new[] { "/v1/completions", "/v1/chat/completions" })
        {
            using var content = new StringContent(
                $$"""{"prompt":"Once upon a time","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"cache_salt":{{value}}}""",
                System.Text.Encoding.UTF8, "application/json");
            using var response = await fixture.Require().Http.PostAsync(path, content, TestContext.Current.CancellationToken);
            var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

            Assert.Equal(400, (int)response.StatusCode);
            Assert.Equal("cache_salt", json.GetProperty("error").GetProperty("param").GetString());
        }
    }
}
