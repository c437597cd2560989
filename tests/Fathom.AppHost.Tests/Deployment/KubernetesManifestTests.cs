using System.Text.Json.Nodes;
using Fathom.AppHost.Tests.Telemetry;
using Fathom.Testing;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Fathom.AppHost.Tests.Deployment;

public sealed partial class KubernetesManifestTests
{
    private static readonly string K8sDirectory = Path.Combine(RepositoryRoot.Find(), "deploy", "k8s");

    [Fact]
    public void Every_file_parses_and_every_object_has_a_kind_an_api_version_and_a_name()
    {
        var objects = LoadAll();

        Assert.True(objects.Count >= 8, $"only {objects.Count} objects");
        foreach (var (file, obj) in objects)
        {
            Assert.False(string.IsNullOrEmpty(Text(obj["apiVersion"])), file);
            Assert.False(string.IsNullOrEmpty(Text(obj["kind"])), file);
            Assert.False(string.IsNullOrEmpty(Text(obj["metadata"]?["name"])), file);
        }
    }

    [Fact]
    public void Engines_request_a_gpu_and_probe_readiness_on_health_ready_and_liveness_on_alive()
    {
        var container = Single("StatefulSet", "engine")["spec"]!["template"]!["spec"]!["containers"]![0]!;

        Assert.Equal("1", Text(container["resources"]!["limits"]!["nvidia.com/gpu"]));
        Assert.Equal("1", Text(container["resources"]!["requests"]!["nvidia.com/gpu"]));
        Assert.Equal("/health/ready", Text(container["readinessProbe"]!["httpGet"]!["path"]));
        Assert.Equal("/alive", Text(container["livenessProbe"]!["httpGet"]!["path"]));
        Assert.Equal("cuda", EnvValue(container, "Fathom__Backend"));
        Assert.Equal("deepseek-r1-distill-llama-70b", EnvValue(container, "Fathom__ServedModelName"));
        Assert.Equal("kvcache:6379,password=$(KVCACHE_PASSWORD)", EnvValue(container, "ConnectionStrings__kvcache"));
        Assert.Equal("None", Text(Single("Service", "engine")["spec"]!["clusterIP"]));
    }

    [Fact]
    public void Engines_leave_the_endpoints_before_sigterm_and_have_time_to_drain()
    {
        var pod = Single("StatefulSet", "engine")["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;

        // preStop (5 s) plus the engine's default drain (30 s) must fit the grace period, or the kubelet kills mid-drain.
        int grace = int.Parse(Text(pod["terminationGracePeriodSeconds"])!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(45, grace);
        var preStop = container["lifecycle"]!["preStop"]!["exec"]!["command"]!.AsArray().Select(Text).ToList();
        Assert.Equal(["sleep", "5"], preStop);
    }

    [Fact]
    public void Redis_evicts_least_recently_used_blocks_and_keeps_nothing_on_disk()
    {
        var args = Single("Deployment", "kvcache")["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!
            .AsArray().Select(Text).ToList();

        Assert.Equal("allkeys-lru", args[args.IndexOf("--maxmemory-policy") + 1]);
        Assert.Contains("--maxmemory", args);
        Assert.Equal("no", args[args.IndexOf("--appendonly") + 1]);
    }

    [Fact]
    public void The_api_is_the_external_service_and_lists_every_replica_the_autoscaler_may_create()
    {
        Assert.Equal("LoadBalancer", Text(Single("Service", "api")["spec"]!["type"]));
        var container = Single("Deployment", "api")["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var hpa = Single("HorizontalPodAutoscaler", "engine");
        var maxReplicas = int.Parse(Text(hpa["spec"]!["maxReplicas"])!);

        for (var i = 0; i < maxReplicas; i++)
        {
            Assert.Equal($"http://engine-{i}.engine:8080", EnvValue(container, $"services__engine__http__{i}"));
        }
        Assert.Null(EnvValue(container, $"services__engine__http__{maxReplicas}"));
        Assert.Equal(Text(hpa["spec"]!["maxReplicas"]), Text(Single("ScaledObject", "engine")["spec"]!["maxReplicaCount"]));
        Assert.Equal("/health/ready", Text(container["readinessProbe"]!["httpGet"]!["path"]));
    }

    [Fact]
    public void Engine_autoscaling_uses_queue_depth_and_kv_usage_metrics_from_docs_metrics_md()
    {
        var known = MetricsCatalog.LoadSeries();
        var hpaMetrics = Single("HorizontalPodAutoscaler", "engine")["spec"]!["metrics"]!.AsArray()
            .Select(m => Text(m!["pods"]!["metric"]!["name"])!).ToList();
        var kedaMetrics = Single("ScaledObject", "engine")["spec"]!["triggers"]!.AsArray()
            .SelectMany(t => MetricsCatalog.MetricNamesIn(Text(t!["metadata"]!["query"])!)).ToList();

        foreach (var metrics in new[] { hpaMetrics, kedaMetrics })
        {
            Assert.Equal(["fathom_engine_requests_waiting", "fathom_engine_kv_cache_usage_ratio"], metrics);
            Assert.All(metrics, m => Assert.Contains(m, known));
        }
        Assert.Equal("StatefulSet", Text(Single("HorizontalPodAutoscaler", "engine")["spec"]!["scaleTargetRef"]!["kind"]));
    }

    internal static JsonNode Single(string kind, string name)
    {
        var matches = LoadAll().Where(o => Text(o.Object["kind"]) == kind && Text(o.Object["metadata"]!["name"]) == name).ToList();
        Assert.True(matches.Count == 1, $"{matches.Count} objects {kind}/{name} under deploy/k8s");
        return matches[0].Object;
    }

    private static string? EnvValue(JsonNode container, string name) =>
        container["env"]!.AsArray().Where(e => Text(e!["name"]) == name).Select(e => Text(e!["value"])).FirstOrDefault();

    internal static string? Text(JsonNode? node) => node?.GetValue<string>();

    internal static List<(string File, JsonNode Object)> LoadAll()
    {
        var deserializer = new DeserializerBuilder().Build();
        var toJson = new SerializerBuilder().JsonCompatible().Build();
        var objects = new List<(string, JsonNode)>();
        foreach (var file in Directory.EnumerateFiles(K8sDirectory, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var reader = new StringReader(File.ReadAllText(file));
            var parser = new Parser(reader);
            parser.Consume<StreamStart>();
            while (parser.Accept<DocumentStart>(out _))
            {
                var document = deserializer.Deserialize<object>(parser);
                if (document is not null)
                {
                    objects.Add((Path.GetRelativePath(K8sDirectory, file), JsonNode.Parse(toJson.Serialize(document))!));
                }
            }
        }
        return objects;
    }
}
