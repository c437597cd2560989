using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Fathom.Testing;

/// <summary>
/// One engine service process on stories260K, shared by the tests of an assembly or class (an xUnit fixture).
/// It starts only when the model is present; tests call <see cref="Require"/> first, which skips them (or fails
/// them under FATHOM_REQUIRE_FIXTURES) when it is not. A derived fixture passes its own command-line options.
/// </summary>
public class EngineServiceFixture : IAsyncLifetime
{
    private readonly string[] _arguments;
    private ServiceProcess? _service;

    /// <summary>An engine with the service's default options.</summary>
    public EngineServiceFixture()
        : this([])
    {
    }

    /// <param name="arguments">Engine service options after <c>--model</c> and <c>--threads 1</c>.</param>
    protected EngineServiceFixture(params string[] arguments) => _arguments = arguments;

    /// <summary>The running process.</summary>
    public ServiceProcess Service => _service ?? throw new InvalidOperationException("the engine service did not start");

    /// <summary>http://127.0.0.1:PORT/ of the service.</summary>
    public Uri BaseAddress => Service.BaseAddress;

    /// <summary>A client of the service with a timeout long enough for slow machines.</summary>
    public HttpClient Http { get; private set; } = new();

    /// <summary>This fixture, once the model is known to be present and the service running.</summary>
    public EngineServiceFixture Require()
    {
        _ = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        _ = Service;
        return this;
    }

    /// <summary>POSTs <paramref name="body"/> as JSON and parses the JSON answer (any status).</summary>
    public async Task<(int Status, JsonElement Body)> PostAsync(string path, object body)
    {
        using var response = await Http.PostAsJsonAsync(path, body, TestContext.Current.CancellationToken);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, json);
    }

    /// <summary>The value of a Prometheus series on the service's <c>/metrics</c> (summed over labels), or null when absent.</summary>
    public async Task<double?> MetricAsync(string series) =>
        PrometheusText.Value(await Http.GetStringAsync("/metrics", TestContext.Current.CancellationToken), series);

    /// <summary>Starts the service when the model is present.</summary>
    public async ValueTask InitializeAsync()
    {
        if (!SharedFixtures.Default.Exists(SharedFixtures.Stories260K))
        {
            return;
        }

        _service = await EngineServiceProcess.StartAsync(arguments: _arguments);
        Http = new HttpClient { BaseAddress = _service.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>Stops the service.</summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
