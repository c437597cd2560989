using System.Net;
using Fathom.Api.Security;
using Fathom.Testing;

namespace Fathom.Api.Tests.Security;

/// <summary><c>/metrics</c> and <c>/health</c> stay off the API's public listener (issue 19, point 2).</summary>
public sealed class ManagementPortTests
{
    private const string Key = "sk-fathom-management-test";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Production() => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Fathom__Api__KeyHashes__0"] = ApiKeys.Hash(Key),
    };

    [Fact]
    public async Task Metrics_and_health_answer_on_the_management_port_only_and_it_serves_nothing_else()
    {
        int managementPort = ServiceProcess.FreePort();
        await using var api = await ApiServiceProcess.StartAsync([], Production(), managementPort);
        using var outside = new HttpClient { BaseAddress = api.BaseAddress };
        outside.DefaultRequestHeaders.Authorization = new("Bearer", Key);
        using var inside = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}/") };
        inside.DefaultRequestHeaders.Authorization = new("Bearer", Key);

        Assert.Contains("# TYPE", await inside.GetStringAsync("/metrics", Ct));
        Assert.Equal(HttpStatusCode.OK, (await inside.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outside.GetAsync("/metrics", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outside.GetAsync("/health", Ct)).StatusCode);

        // The port the connection arrived on decides, not the Host header a client writes.
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        spoofed.Headers.Host = $"127.0.0.1:{managementPort}";
        Assert.Equal(HttpStatusCode.NotFound, (await outside.SendAsync(spoofed, Ct)).StatusCode);

        // The orchestrator's probes answer on both; the API itself only outside.
        foreach (var client in new[] { outside, inside })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive", Ct)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await outside.GetAsync("/v1/models", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await inside.GetAsync("/v1/models", Ct)).StatusCode);
        Assert.Contains($"served on the management port {managementPort} only", api.Output);
        Assert.DoesNotContain("is not among the addresses the server listens on", api.Output);
    }

    [Fact]
    public async Task A_management_port_the_server_does_not_listen_on_is_reported()
    {
        int unbound = ServiceProcess.FreePort();
        var environment = Production();
        environment["Fathom__Api__ManagementPort"] = unbound.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var api = await ApiServiceProcess.StartAsync([], environment);

        await Task.Delay(TimeSpan.FromSeconds(1), Ct); // the check runs once the server has started
        Assert.Contains($"Fathom:Api:ManagementPort {unbound} is not among the addresses the server listens on", api.Output);
    }

    [Fact]
    public async Task Outside_development_without_a_management_port_metrics_and_health_are_not_served()
    {
        await using var api = await ApiServiceProcess.StartAsync([], Production());
        using var http = new HttpClient { BaseAddress = api.BaseAddress };

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready", Ct)).StatusCode);
        Assert.Contains("/metrics and /health are not served: set Fathom:Api:ManagementPort", api.Output);
    }
}
