using System.Net;
using Fathom.Api.Security;
using Fathom.Testing;

namespace Fathom.Api.Tests.Security;

/// <summary>The API process decides at start whether it may serve without keys (issue 19, point 1).</summary>
public sealed class ApiKeyStartupTests
{
    private const string Key = "sk-fathom-startup-test";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Production_without_keys_refuses_to_start_with_one_line_and_a_non_zero_exit()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ApiServiceProcess.StartAsync([], new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Production" }));

        Assert.Contains("exited with code 2", error.Message);
        Assert.Contains("Fathom API refused to start: no API keys configured and the environment is Production", error.Message);
        Assert.Contains("Fathom__Api__AllowAnonymous=true", error.Message);
        Assert.DoesNotContain("Unhandled exception", error.Message);
        Assert.DoesNotContain("   at ", error.Message);
    }

    [Fact]
    public async Task A_key_hash_that_is_not_sha256_refuses_to_start_and_names_the_entry()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ApiServiceProcess.StartAsync([], new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Fathom__Api__KeyHashes__0"] = ApiKeys.Hash(Key),
            ["Fathom__Api__KeyHashes__1"] = Key, // the key itself where its hash belongs
        }));

        Assert.Contains("exited with code 2", error.Message);
        Assert.Contains("Fathom:Api:KeyHashes:1 is not a SHA-256 hash", error.Message);
        Assert.DoesNotContain(Key + "\n", error.Message.Replace("\r", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Production_with_allow_anonymous_starts_open_and_says_why()
    {
        await using var api = await ApiServiceProcess.StartAsync([], new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Fathom__Api__AllowAnonymous"] = "true",
        });
        using var http = new HttpClient { BaseAddress = api.BaseAddress };

        using var models = await http.GetAsync("/v1/models", Ct);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Contains("open to anyone who can reach it because Fathom:Api:AllowAnonymous=true", api.Output);
    }

    [Fact]
    public async Task Development_without_keys_starts_open_and_says_why()
    {
        await using var api = await ApiServiceProcess.StartAsync([]);
        using var http = new HttpClient { BaseAddress = api.BaseAddress };

        using var models = await http.GetAsync("/v1/models", Ct);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Contains("open to anyone who can reach it because the environment is Development", api.Output);
    }

    [Fact]
    public async Task Production_with_hashed_keys_accepts_each_key_in_either_spelling_and_rejects_others_with_401()
    {
        const string second = "sk-fathom-second-key";
        await using var api = await ApiServiceProcess.StartAsync([], new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Fathom__Api__KeyHashes__0"] = ApiKeys.Hash(Key),
            ["Fathom__Api__KeyHashes__1"] = "sha256:" + ApiKeys.Hash(second).ToUpperInvariant(),
        });
        Assert.Contains("API keys required on /v1: 2 key hash(es) configured", api.Output);

        foreach (var (key, expected) in new (string?, HttpStatusCode)[]
        {
            (Key, HttpStatusCode.OK),
            (second, HttpStatusCode.OK),
            (null, HttpStatusCode.Unauthorized),
            ("sk-wrong", HttpStatusCode.Unauthorized),
            (ApiKeys.Hash(Key), HttpStatusCode.Unauthorized), // the hash is not a key
        })
        {
            using var http = new HttpClient { BaseAddress = api.BaseAddress };
            if (key is not null)
            {
                http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            }

            using var response = await http.GetAsync("/v1/models", Ct);
            Assert.True(expected == response.StatusCode, $"key {key ?? "(none)"}: {response.StatusCode}");
        }
    }
}
