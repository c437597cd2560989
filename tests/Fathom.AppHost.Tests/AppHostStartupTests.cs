using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Fathom.AppHost.Tests;

public sealed class AppHostStartupTests
{
    [Fact]
    public async Task The_app_model_starts_and_its_services_become_healthy()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(ct);
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(4));
        await app.ResourceNotifications.WaitForResourceHealthyAsync("engine", timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("api", timeout.Token);

        using var http = app.CreateHttpClient("api");
        var response = await http.GetAsync("/health", ct);
        Assert.True(response.IsSuccessStatusCode);
    }
}
