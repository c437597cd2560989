using System.ClientModel;
using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Testing;
using OpenAI;
using OpenAI.Chat;

[assembly: AssemblyFixture(typeof(Fathom.EngineService.Tests.EngineServiceFixture))]

namespace Fathom.EngineService.Tests;

/// <summary>One engine service process on stories260K.gguf, shared by the tests of this assembly.</summary>
public sealed class EngineServiceFixture : IAsyncLifetime
{
    public const string ModelFile = "models/stories260K.gguf";
    public const string ModelName = "stories260K";

    private ServiceProcess? _service;

    public ServiceProcess Service => _service ?? throw new InvalidOperationException("not started");

    public HttpClient Http { get; private set; } = new();

    /// <summary>The service on the shared model; skips (or fails under FATHOM_REQUIRE_FIXTURES) when the model is missing.</summary>
    public EngineServiceFixture Require()
    {
        _ = SharedFixtures.Default.GetPath(ModelFile);
        return _service is null ? throw new InvalidOperationException("the engine service did not start") : this;
    }

    public ChatClient Chat() =>
        new(ModelName, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Service.BaseAddress, "v1") });

    public static Task<ServiceProcess> StartAsync(params string[] args) =>
        ServiceProcess.StartAsync("Fathom.EngineService.dll",
            ["--model", SharedFixtures.Default.GetPath(ModelFile), "--threads", "1", .. args],
            readyPath: "/health/ready");

    public async ValueTask InitializeAsync()
    {
        if (!SharedFixtures.Default.Exists(ModelFile))
        {
            return;
        }

        _service = await StartAsync();
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

    /// <summary>POSTs <paramref name="body"/> and parses the JSON answer (any status).</summary>
    public async Task<(int Status, JsonElement Body)> PostAsync(string path, object body)
    {
        using var response = await Http.PostAsJsonAsync(path, body, TestContext.Current.CancellationToken);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, json);
    }

    /// <summary>The value of a Prometheus series (summed over labels), or null when absent.</summary>
    public async Task<double?> MetricAsync(string series) =>
        PrometheusText.Value(await Http.GetStringAsync("/metrics", TestContext.Current.CancellationToken), series);
}
