using System.Text.Json.Nodes;
using static Fathom.AppHost.Tests.Deployment.KubernetesManifestTests;

namespace Fathom.AppHost.Tests.Deployment;

/// <summary>deploy/k8s parsed: secrets come from Secrets, engines and Redis are reachable only from Fathom's pods (issue 19).</summary>
public sealed class KubernetesSecurityTests
{
    [Fact]
    public void Key_hashes_and_the_gateway_token_come_from_secrets_and_no_manifest_holds_a_value()
    {
        var api = Container("Deployment", "api");
        var engine = Container("StatefulSet", "engine");

        Assert.Equal(("fathom-api-keys", "key0-sha256"), SecretRef(api, "Fathom__Api__KeyHashes__0"));
        Assert.Equal(("fathom-gateway-token", "token"), SecretRef(api, "Fathom__GatewayToken"));
        Assert.Equal(("fathom-gateway-token", "token"), SecretRef(engine, "Fathom__GatewayToken"));

        // Created by the operator (docs/deployment.md), never shipped with a value that every install would share.
        Assert.DoesNotContain(LoadAll(), o => Text(o.Object["kind"]) == "Secret");
        foreach (var container in new[] { api, engine })
        {
            Assert.All(container["env"]!.AsArray(), e =>
            {
                string name = Text(e!["name"])!;
                if (name.Contains("Key", StringComparison.Ordinal) || name.Contains("Token", StringComparison.Ordinal) || name.Contains("Password", StringComparison.Ordinal))
                {
                    Assert.True(e["value"] is null, $"{name} has a literal value");
                    Assert.NotNull(e["valueFrom"]?["secretKeyRef"]);
                }
            });
        }
    }

    [Fact]
    public void The_api_serves_metrics_on_its_management_port_and_prometheus_scrapes_that_one()
    {
        var pod = Single("Deployment", "api")["spec"]!["template"]!;
        var api = pod["spec"]!["containers"]![0]!;
        string? Env(string name) => api["env"]!.AsArray().Where(e => Text(e!["name"]) == name).Select(e => Text(e!["value"])).SingleOrDefault();

        Assert.Equal("8081", Env("Fathom__Api__ManagementPort"));
        Assert.Equal(["8080", "8081"], Env("ASPNETCORE_HTTP_PORTS")!.Split(';'));
        Assert.Equal("8081", Text(pod["metadata"]!["annotations"]!["prometheus.io/port"]));
        Assert.Contains(api["ports"]!.AsArray(), p => Text(p!["containerPort"]) == "8081");
        // Probes stay on the public port: the API answers them on every port.
        Assert.Equal("http", Text(api["readinessProbe"]!["httpGet"]!["port"]));
        Assert.Equal("/health/ready", Text(api["readinessProbe"]!["httpGet"]!["path"]));
    }

    [Fact]
    public void Engines_accept_only_the_api_and_prometheus_redis_only_the_engines_and_the_api_and_limits_only_the_api()
    {
        var engine = Single("NetworkPolicy", "engine")["spec"]!;
        Assert.Equal("engine", Text(engine["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"]));
        Assert.Equal(["Ingress"], engine["policyTypes"]!.AsArray().Select(Text));
        Assert.Equal(["api", "prometheus"], Sources(engine));
        Assert.All(engine["ingress"]!.AsArray(), rule => Assert.Equal(["8080"], rule!["ports"]!.AsArray().Select(p => Text(p!["port"]))));

        var redis = Single("NetworkPolicy", "kvcache")["spec"]!;
        Assert.Equal("kvcache", Text(redis["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"]));
        Assert.Equal(["Ingress"], redis["policyTypes"]!.AsArray().Select(Text));
        Assert.Equal(["api", "engine"], Sources(redis));

        // The rate-limit counters' own instance: the API alone.
        var limits = Single("NetworkPolicy", "limits")["spec"]!;
        Assert.Equal("limits", Text(limits["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"]));
        Assert.Equal(["api"], Sources(limits));
        Assert.Equal("limits", Text(Single("Deployment", "limits")["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/name"]));

        // The selectors name pods that exist: the labels of the workloads they protect and admit.
        Assert.Equal("engine", Text(Single("StatefulSet", "engine")["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/name"]));
        Assert.Equal("api", Text(Single("Deployment", "api")["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/name"]));
        Assert.Equal("kvcache", Text(Single("Deployment", "kvcache")["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/name"]));

        // The API's management port admits Prometheus only; its public port anyone.
        var apiRules = Single("NetworkPolicy", "api")["spec"]!["ingress"]!.AsArray();
        var management = Assert.Single(apiRules, r => r!["ports"]!.AsArray().Any(p => Text(p!["port"]) == "8081"))!;
        Assert.Equal(["prometheus"], management["from"]!.AsArray().Select(f => Text(f!["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"])));
    }

    /// <summary>The pod names every ingress rule admits, sorted.</summary>
    private static List<string> Sources(JsonNode policy) =>
        [.. policy["ingress"]!.AsArray()
            .SelectMany(rule => rule!["from"]!.AsArray())
            .Select(from => Text(from!["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"])!)
            .Order(StringComparer.Ordinal)];

    private static JsonNode Container(string kind, string name) => Single(kind, name)["spec"]!["template"]!["spec"]!["containers"]![0]!;

    private static (string? Name, string? Key) SecretRef(JsonNode container, string env)
    {
        var reference = container["env"]!.AsArray().Single(e => Text(e!["name"]) == env)!["valueFrom"]!["secretKeyRef"]!;
        return (Text(reference["name"]), Text(reference["key"]));
    }
}
