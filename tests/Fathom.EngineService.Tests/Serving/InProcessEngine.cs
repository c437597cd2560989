using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Fathom.Engine.Scheduling;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>
/// The engine service's pipeline hosted in the test process on stories260K, on a free port, so that a test can
/// change the engine's options (e.g. wrap its runner) before the model loads.
/// </summary>
internal sealed class InProcessEngine : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessEngine(WebApplication app, Uri baseAddress)
    {
        _app = app;
        Http = new HttpClient { BaseAddress = baseAddress };
    }

    public HttpClient Http { get; }

    public static async Task<InProcessEngine> StartAsync(Func<EngineHostOptions, EngineHostOptions> configure)
    {
        string model = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var address = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls(address.ToString());
        builder.AddServiceDefaults();
        builder.AddFathomEngine(["--model", model, "--threads", "1"]);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapOpenAiEndpoints();
        app.Services.GetRequiredService<ModelHost>().ConfigureHost = (_, options) => (null, configure(options));
        await app.StartAsync(TestContext.Current.CancellationToken);
        var engine = new InProcessEngine(app, address);
        for (int i = 0; i < 300; i++)
        {
            using var ready = await engine.Http.GetAsync("/health/ready", TestContext.Current.CancellationToken);
            if (ready.IsSuccessStatusCode)
            {
                return engine;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        await engine.DisposeAsync();
        throw new TimeoutException("the in-process engine did not load its model");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
