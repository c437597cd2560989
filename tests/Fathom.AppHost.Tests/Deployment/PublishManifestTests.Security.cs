using System.Text.Json.Nodes;

namespace Fathom.AppHost.Tests.Deployment;

/// <summary>What the published manifest does to protect the Redis tier (docs/security.md).</summary>
public sealed partial class PublishManifestTests
{
    [Fact]
    public async Task Redis_has_a_password_a_memory_cap_and_lru_eviction_and_the_engines_get_a_generated_hmac_key()
    {
        var resources = (await PublishAsync(TestContext.Current.CancellationToken))["resources"]!.AsObject();

        var kvcache = resources["kvcache"]!;
        string command = string.Join(' ', kvcache["args"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Contains("--requirepass $REDIS_PASSWORD", command);
        Assert.Contains("--maxmemory $REDIS_MAXMEMORY --maxmemory-policy allkeys-lru", command);
        Assert.Equal("{kvcache-password.value}", Text(kvcache["env"]!["REDIS_PASSWORD"]));
        Assert.Equal("{kvcache-maxmemory.value}", Text(kvcache["env"]!["REDIS_MAXMEMORY"]));
        Assert.Contains("password={kvcache-password.value}", Text(kvcache["connectionString"]));
        AssertGeneratedSecret(resources["kvcache-password"]!, minLength: 16);
        Assert.Equal("2gb", Text(resources["kvcache-maxmemory"]!["inputs"]!["value"]!["default"]!["value"]));

        AssertGeneratedSecret(resources["kvcache-hmac-key"]!, minLength: 32);
        Assert.Equal("{kvcache-hmac-key.value}", Text(resources["engine"]!["env"]!["Fathom__KvCache__HmacKey"]));
        Assert.Equal("{kvcache.connectionString}", Text(resources["engine"]!["env"]!["ConnectionStrings__kvcache"]));
    }

    [Fact]
    public async Task The_api_keeps_its_rate_limit_counters_in_a_separate_password_protected_instance_that_never_evicts()
    {
        var resources = (await PublishAsync(TestContext.Current.CancellationToken))["resources"]!.AsObject();

        var limits = resources["limits"]!;
        string command = string.Join(' ', limits["args"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Contains("--requirepass $REDIS_PASSWORD", command);
        Assert.Contains("--maxmemory-policy noeviction", command);
        Assert.DoesNotContain("allkeys", command);
        AssertGeneratedSecret(resources["limits-password"]!, minLength: 16);

        var apiEnv = resources["api"]!["env"]!.AsObject();
        Assert.Equal("{limits.connectionString}", Text(apiEnv["ConnectionStrings__limits"]));
        Assert.Equal("limits", Text(apiEnv["Fathom__Api__SharedLimitsConnectionName"]));
        Assert.Null(apiEnv["ConnectionStrings__kvcache"]); // the cache's evicting instance holds no counters
        Assert.Null(apiEnv["Fathom__KvCache__HmacKey"]);    // only engines read and write blocks
    }

    [Fact]
    public async Task The_tls_option_is_a_connection_string_secret_asked_for_at_deploy_time()
    {
        var resources = (await PublishAsync(TestContext.Current.CancellationToken, "--Fathom:KvCache:Mode=connection-string"))["resources"]!.AsObject();

        var kvcache = resources["kvcache"]!;
        Assert.Equal("parameter.v0", Text(kvcache["type"]));
        Assert.True(kvcache["inputs"]!["value"]!["secret"]!.GetValue<bool>());
        Assert.Equal("{kvcache.connectionString}", Text(resources["engine"]!["env"]!["ConnectionStrings__kvcache"]));
        Assert.Equal("{kvcache-hmac-key.value}", Text(resources["engine"]!["env"]!["Fathom__KvCache__HmacKey"]));
    }

    private static void AssertGeneratedSecret(JsonNode parameter, int minLength)
    {
        var input = parameter["inputs"]!["value"]!;
        Assert.True(input["secret"]!.GetValue<bool>());
        Assert.True(input["default"]!["generate"]!["minLength"]!.GetValue<int>() >= minLength);
    }

    private static string? Text(JsonNode? node) => node?.GetValue<string>();
}
