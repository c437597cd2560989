using System.Text.Json.Nodes;

namespace Fathom.AppHost.Tests.Deployment;

/// <summary>deploy/k8s: Redis passwords and the engines' HMAC key from Secrets, memory caps and eviction policies.</summary>
public sealed partial class KubernetesManifestTests
{
    [Theory]
    [InlineData("kvcache", "kvcache-password", "allkeys-lru")]
    [InlineData("limits", "limits-password", "noeviction")]
    public void Each_redis_takes_its_password_from_the_secret_and_has_a_memory_cap_and_its_policy(string name, string secretKey, string policy)
    {
        var container = Single("Deployment", name)["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var args = container["args"]!.AsArray().Select(Text).ToList();

        Assert.Equal("$(REDIS_PASSWORD)", args[args.IndexOf("--requirepass") + 1]);
        Assert.Equal(("fathom-redis", secretKey), SecretOf(container, "REDIS_PASSWORD"));
        Assert.Matches("^[0-9]+(mb|gb)$", args[args.IndexOf("--maxmemory") + 1]);
        Assert.Equal(policy, args[args.IndexOf("--maxmemory-policy") + 1]);
        Assert.Equal("6379", Text(container["ports"]![0]!["containerPort"]));
        Assert.Equal("6379", Text(Single("Service", name)["spec"]!["ports"]![0]!["port"]));
    }

    [Fact]
    public void Engines_read_the_kvcache_password_and_the_hmac_key_from_secrets()
    {
        var container = Single("StatefulSet", "engine")["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var names = container["env"]!.AsArray().Select(e => Text(e!["name"])).ToList();

        Assert.Equal(("fathom-redis", "kvcache-password"), SecretOf(container, "KVCACHE_PASSWORD"));
        Assert.Equal(("fathom-kvcache", "hmac-key"), SecretOf(container, "Fathom__KvCache__HmacKey"));
        // $(VAR) in a value expands only from variables defined before it.
        Assert.True(names.IndexOf("KVCACHE_PASSWORD") < names.IndexOf("ConnectionStrings__kvcache"));
        Assert.Contains("password=$(KVCACHE_PASSWORD)", EnvValue(container, "ConnectionStrings__kvcache"));
    }

    [Fact]
    public void The_api_keeps_its_rate_limit_counters_in_the_limits_instance_with_its_password_from_the_secret()
    {
        var container = Single("Deployment", "api")["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var names = container["env"]!.AsArray().Select(e => Text(e!["name"])).ToList();

        Assert.Equal(("fathom-redis", "limits-password"), SecretOf(container, "LIMITS_PASSWORD"));
        Assert.True(names.IndexOf("LIMITS_PASSWORD") < names.IndexOf("ConnectionStrings__limits"));
        Assert.Equal("limits:6379,password=$(LIMITS_PASSWORD)", EnvValue(container, "ConnectionStrings__limits"));
        Assert.Equal("limits", EnvValue(container, "Fathom__Api__SharedLimitsConnectionName"));
        Assert.DoesNotContain("ConnectionStrings__kvcache", names);
    }

    [Fact]
    public void No_manifest_holds_a_password_or_key_in_plain_text()
    {
        foreach (var (file, obj) in LoadAll())
        {
            var containers = obj["spec"]?["template"]?["spec"]?["containers"]?.AsArray() ?? [];
            foreach (var env in containers.SelectMany(c => c!["env"]?.AsArray() ?? []))
            {
                string name = Text(env!["name"])!;
                if (name.Contains("PASSWORD", StringComparison.Ordinal) || name.Contains("HmacKey", StringComparison.Ordinal) || name == "REDISCLI_AUTH")
                {
                    string? value = Text(env["value"]);
                    Assert.True(env["valueFrom"]?["secretKeyRef"] is not null || value is "$(REDIS_PASSWORD)", $"{file}: {name} is not from a Secret");
                }
            }

            Assert.NotEqual("Secret", Text(obj["kind"])); // Secrets are created by the operator (redis.yaml says how), never committed
        }
    }

    private static (string? Secret, string? Key) SecretOf(JsonNode container, string name)
    {
        var reference = container["env"]!.AsArray().Single(e => Text(e!["name"]) == name)!["valueFrom"]?["secretKeyRef"];
        return (Text(reference?["name"]), Text(reference?["key"]));
    }
}
