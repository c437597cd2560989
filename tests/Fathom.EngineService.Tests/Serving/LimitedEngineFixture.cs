using Fathom.Testing;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>A service of its own with a tiny batch (2 sequences) and queue (1 request), for load-shedding and cancellation.</summary>
public sealed class LimitedEngineFixture : IAsyncLifetime
{
    private ServiceProcess? _service;

    public HttpClient Http { get; private set; } = new();

    public LimitedEngineFixture Require()
    {
        _ = SharedFixtures.Default.GetPath(EngineServiceFixture.ModelFile);
        return _service is null ? throw new InvalidOperationException("the engine service did not start") : this;
    }

    public async Task<double?> MetricAsync(string series)
    {
        string text = await Http.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        return PrometheusText.Value(text, series);
    }

    public async ValueTask InitializeAsync()
    {
        if (!SharedFixtures.Default.Exists(EngineServiceFixture.ModelFile))
        {
            return;
        }

        _service = await EngineServiceFixture.StartAsync("--max-num-seqs", "2", "--max-queued-requests", "1");
        Http = new HttpClient { BaseAddress = _service.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }
}
