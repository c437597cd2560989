using System.Net;
using Xunit;

namespace Fathom.Testing;

/// <summary>The endpoints every Fathom service gets from ServiceDefaults, checked the same way for each service.</summary>
public static class ServiceDefaultsEndpoints
{
    /// <summary>
    /// Starts <paramref name="assemblyFileName"/> with no options and asserts that <c>/health</c> and <c>/alive</c>
    /// answer 200 and <c>/metrics</c> serves Prometheus text.
    /// </summary>
    public static async Task AssertAnswerOnLoopbackAsync(string assemblyFileName)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var service = await ServiceProcess.StartAsync(assemblyFileName);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", ct)).StatusCode);
        Assert.Contains("# TYPE", await http.GetStringAsync("/metrics", ct));
    }
}
