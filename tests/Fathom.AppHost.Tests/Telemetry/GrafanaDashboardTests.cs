using System.Text.Json;
using Fathom.Testing;

namespace Fathom.AppHost.Tests.Telemetry;

public sealed class GrafanaDashboardTests
{
    private static readonly string DashboardPath = Path.Combine(RepositoryRoot.Find(), "deploy", "grafana", "fathom.json");

    [Fact]
    public void Every_query_names_only_metrics_that_docs_metrics_md_defines()
    {
        var known = MetricsCatalog.LoadSeries();
        var queries = Queries().ToList();

        Assert.NotEmpty(queries);
        foreach (var (title, expr) in queries)
        {
            var names = MetricsCatalog.MetricNamesIn(expr);
            Assert.True(names.Count > 0, $"panel '{title}': no Fathom metric in {expr}");
            var unknown = names.Where(n => !known.Contains(n)).ToList();
            Assert.True(unknown.Count == 0, $"panel '{title}': {string.Join(", ", unknown)} not in docs/metrics.md");
        }
    }

    [Fact]
    public void The_dashboard_covers_latency_throughput_queue_kv_usage_and_both_hit_rates()
    {
        var all = string.Join("\n", Queries().Select(q => q.Expr));

        Assert.Contains("histogram_quantile(0.99, sum by (le) (rate(gen_ai_server_time_to_first_token_seconds_bucket", all);
        Assert.Contains("histogram_quantile(0.99, sum by (le) (rate(gen_ai_server_time_per_output_token_seconds_bucket", all);
        Assert.Contains("rate(fathom_engine_generation_tokens_total", all);
        Assert.Contains("fathom_engine_requests_waiting", all);
        Assert.Contains("fathom_engine_kv_cache_usage_ratio", all);
        Assert.Contains("fathom_engine_prefix_cache_hits_total", all);
        Assert.Contains("fathom_kvcache_remote_hits_total", all);
    }

    [Fact]
    public void It_imports_into_Grafana_10_with_a_Prometheus_data_source_input()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var root = doc.RootElement;

        Assert.Equal("prometheus", root.GetProperty("__inputs")[0].GetProperty("pluginId").GetString());
        Assert.True(root.GetProperty("schemaVersion").GetInt32() >= 36, "Grafana 10 writes schemaVersion 36 or later");
        Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
        var ids = root.GetProperty("panels").EnumerateArray().Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var panel in root.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row"))
        {
            Assert.Equal("${DS_PROMETHEUS}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.True(panel.GetProperty("gridPos").GetProperty("w").GetInt32() is > 0 and <= 24);
        }
    }

    [Fact]
    public void The_catalog_reader_sees_through_labels_and_grouping()
    {
        var names = MetricsCatalog.MetricNamesIn(
            "sum by (gen_ai_token_type) (rate(gen_ai_client_token_usage_sum{gen_ai_token_type=\"output\"}[5m])) / fathom_engine_requests_running");

        Assert.Equal(["gen_ai_client_token_usage_sum", "fathom_engine_requests_running"], names);
        Assert.Contains("gen_ai_server_time_to_first_token_seconds_bucket", MetricsCatalog.LoadSeries());
        Assert.DoesNotContain("fathom_engine_requests_waiting_bucket", MetricsCatalog.LoadSeries());
    }

    private static IEnumerable<(string Title, string Expr)> Queries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var results = new List<(string, string)>();
        foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }
            var title = panel.GetProperty("title").GetString()!;
            results.AddRange(targets.EnumerateArray().Select(t => (title, t.GetProperty("expr").GetString()!)));
        }
        foreach (var variable in doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query")
            {
                results.Add(($"variable {variable.GetProperty("name").GetString()}", variable.GetProperty("definition").GetString()!));
            }
        }
        return results;
    }
}
