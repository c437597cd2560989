using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fathom.Api.Security;
using Fathom.Testing;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// Tenant isolation of the prefix cache, API side (<c>Fathom:Api:PrefixCacheSharing</c>): what the API forwards
/// (to a recording replica), and, with a real engine that folds <c>cache_salt</c> into its block hashes, that two
/// keys never see each other's cached tokens.
/// </summary>
[Collection(nameof(EngineReplicas))]
public sealed class CacheSaltTests(EngineReplicas replicas)
{
    private const string OtherKey = "sk-fathom-other-tenant";

    private const string Completion = """{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}""";

    private static StringContent Chat(string extra = "") => new(
        $$"""{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"Tell me about the fox."}]{{extra}}}""", Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ForwardAsync(FakeReplica replica, HttpClient http, StringContent body)
    {
        var ct = TestContext.Current.CancellationToken;
        int before = replica.Bodies.Count;
        using var response = await http.PostAsync("/v1/chat/completions", body, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before + 1, replica.Bodies.Count);
        return JsonDocument.Parse(replica.Bodies.ToArray()[^1]).RootElement;
    }

    private static string? SaltOf(JsonElement body) => body.TryGetProperty("cache_salt", out var salt) ? salt.GetString() : null;

    [Fact]
    public async Task Per_key_sharing_salts_every_request_with_its_keys_identity_and_nothing_else_changes()
    {
        await using var replica = new FakeReplica(200, Completion);
        await using var api = await EngineReplicas.StartApiAsync([replica.Address], ("KeyHashes__1", ApiKeys.Hash(OtherKey)));
        using var a = EngineReplicas.Http(api);
        using var b = EngineReplicas.Http(api, OtherKey);

        var first = await ForwardAsync(replica, a, Chat());
        var again = await ForwardAsync(replica, a, Chat());
        var other = await ForwardAsync(replica, b, Chat());
        var withOwnSalt = await ForwardAsync(replica, a, Chat(""","cache_salt":"mine" """));

        Assert.False(string.IsNullOrEmpty(SaltOf(first)));
        Assert.Equal(SaltOf(first), SaltOf(again));
        Assert.NotEqual(SaltOf(first), SaltOf(other));
        Assert.NotEqual(SaltOf(first), SaltOf(withOwnSalt));
        Assert.NotEqual("mine", SaltOf(withOwnSalt));
        foreach (var body in new[] { first, other, withOwnSalt })
        {
            Assert.DoesNotContain(EngineReplicas.Key, body.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain(OtherKey, body.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain(ApiKeys.Hash(EngineReplicas.Key), body.GetRawText(), StringComparison.Ordinal);
            Assert.Equal(["model", "max_tokens", "messages", "cache_salt"], body.EnumerateObject().Select(p => p.Name));
        }

        // A client cannot pick another key's salt by sending it.
        var forged = await ForwardAsync(replica, b, Chat($$""","cache_salt":"{{SaltOf(first)}}" """));
        Assert.NotEqual(SaltOf(first), SaltOf(forged));
    }

    [Fact]
    public async Task Global_sharing_forwards_the_body_as_sent()
    {
        await using var replica = new FakeReplica(200, Completion);
        await using var api = await EngineReplicas.StartApiAsync([replica.Address], ("PrefixCacheSharing", "global"));
        using var http = EngineReplicas.Http(api);

        Assert.Null(SaltOf(await ForwardAsync(replica, http, Chat())));
        Assert.Equal("mine", SaltOf(await ForwardAsync(replica, http, Chat(""","cache_salt":"mine" """))));
    }

    [Fact]
    public async Task A_cache_salt_that_is_not_a_string_is_a_400_naming_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var replica = new FakeReplica(200, Completion);
        await using var api = await EngineReplicas.StartApiAsync([replica.Address]);
        using var http = EngineReplicas.Http(api);

        using var response = await http.PostAsync("/v1/chat/completions", Chat(""","cache_salt":7"""), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("cache_salt", (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(replica.Bodies);
    }

    /// <summary>End to end through the real API and engine: the per-key salt keeps each key's prefix cache apart.</summary>
    [Fact]
    public async Task Two_keys_sending_one_prompt_see_none_of_each_others_cached_tokens_while_each_sees_its_own()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        // Two tenants new to this run: the salt of a key is the same in every API process (so that several API
        // instances share a tenant's cache), and other tests' requests under the shared test key leave the template's
        // first block cached under that key's salt.
        string keyA = $"sk-fathom-a-{Guid.NewGuid():N}", keyB = $"sk-fathom-b-{Guid.NewGuid():N}";
        await using var api = await EngineReplicas.StartApiAsync([replicas.A], ("KeyHashes__0", ApiKeys.Hash(keyA)), ("KeyHashes__1", ApiKeys.Hash(keyB)));
        using var a = EngineReplicas.Http(api, keyA);
        using var b = EngineReplicas.Http(api, keyB);
        // Long and unique to this run, so full blocks are cached and no earlier test left them behind.
        string prompt = string.Concat(Enumerable.Repeat($"The fox {Guid.NewGuid():N} ran into the wood. ", 12));
        StringContent Body() => new(JsonSerializer.Serialize(new
        {
            model = SharedFixtures.Stories260KName,
            max_tokens = 2,
            messages = new[] { new { role = "user", content = prompt } },
        }), Encoding.UTF8, "application/json");

        async Task<int> CachedAsync(HttpClient http)
        {
            using var response = await http.PostAsync("/v1/chat/completions", Body(), ct);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
            var usage = body.GetProperty("usage");
            return usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
                ? details.GetProperty("cached_tokens").GetInt32() : 0;
        }

        Assert.Equal(0, await CachedAsync(a));
        Assert.True(await CachedAsync(a) > 0, "a key sees its own cached prefix");
        Assert.Equal(0, await CachedAsync(b));
        Assert.True(await CachedAsync(b) > 0, "the other key then sees its own");
    }
}
