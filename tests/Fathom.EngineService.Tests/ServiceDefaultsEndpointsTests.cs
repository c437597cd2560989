using System.Net;
using Fathom.Testing;

namespace Fathom.EngineService.Tests;

public sealed class ServiceDefaultsEndpointsTests
{
    [Fact]
    public async Task Health_alive_and_metrics_answer_on_loopback()
    {
        await using var service = await ServiceProcess.StartAsync("Fathom.EngineService.dll");
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", TestContext.Current.CancellationToken)).StatusCode);
        var metrics = await http.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("# TYPE", metrics);
    }
}
