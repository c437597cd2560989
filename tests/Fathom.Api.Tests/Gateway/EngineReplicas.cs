using System.ClientModel;
using Fathom.Api.Security;
using Fathom.Testing;
using OpenAI;
using OpenAI.Chat;

[assembly: AssemblyFixture(typeof(Fathom.Api.Tests.Gateway.EngineReplicas))]


namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// Two real engine services on stories260K, shared by the gateway tests; each test starts its own API process in
/// front of them (cheap) with the configuration it needs.
/// </summary>
public sealed class EngineReplicas : IAsyncLifetime
{
    public const string Key = "sk-fathom-test-key";

    private ServiceProcess? _a;
    private ServiceProcess? _b;

    public ServiceProcess A => _a ?? throw new InvalidOperationException("the engine replicas did not start");

    public ServiceProcess B => _b ?? throw new InvalidOperationException("the engine replicas did not start");

    /// <summary>Skips (or fails under FATHOM_REQUIRE_FIXTURES) when the model is missing.</summary>
    public EngineReplicas Require()
    {
        _ = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        return this;
    }

    /// <summary>The API in front of <paramref name="replicas"/>, keyed with <see cref="Key"/>, plus <paramref name="settings"/> (Fathom:Api keys).</summary>
    public static Task<ServiceProcess> StartApiAsync(IEnumerable<ServiceProcess> replicas, params (string Name, string Value)[] settings) =>
        StartApiAsync(replicas.Select(r => r.BaseAddress), settings);

    /// <summary>The API in front of replicas at <paramref name="replicas"/>.</summary>
    public static Task<ServiceProcess> StartApiAsync(IEnumerable<Uri> replicas, params (string Name, string Value)[] settings) =>
        StartApiAsync(replicas, new Dictionary<string, string?>(), settings);

    /// <summary>The API in front of replicas at <paramref name="replicas"/>, with more environment (connection strings).</summary>
    public static Task<ServiceProcess> StartApiAsync(IEnumerable<Uri> replicas, IReadOnlyDictionary<string, string?> environment, params (string Name, string Value)[] settings)
    {
        var env = new Dictionary<string, string?>(environment)
        {
            ["Fathom__Api__KeyHashes__0"] = ApiKeys.Hash(Key),
            ["Fathom__Api__HealthCheckInterval"] = "00:00:01",
            ["Fathom__Api__LoadPollInterval"] = "00:00:00.500",
        };
        foreach (var (name, value) in settings)
        {
            env["Fathom__Api__" + name] = value;
        }

        return ApiServiceProcess.StartAsync(replicas, env);
    }

    public static HttpClient Http(ServiceProcess service, string? key = Key)
    {
        var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }

        return http;
    }

    public static ChatClient Chat(ServiceProcess api, string key = Key) =>
        new(SharedFixtures.Stories260KName, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(api.BaseAddress, "v1") });

    /// <summary>The sum of the Prometheus series <paramref name="series"/> over the label sets that contain <paramref name="labelFilter"/>; 0 when absent.</summary>
    public static async Task<double> MetricAsync(ServiceProcess service, string series, string labelFilter = "") =>
        await PrometheusText.ScrapeAsync(service.BaseAddress, series, labelFilter, TestContext.Current.CancellationToken) ?? 0;

    public async ValueTask InitializeAsync()
    {
        if (!SharedFixtures.Default.Exists(SharedFixtures.Stories260K))
        {
            return;
        }

        var starts = new[] { EngineServiceProcess.StartAsync(), EngineServiceProcess.StartAsync() };
        var started = await Task.WhenAll(starts);
        (_a, _b) = (started[0], started[1]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_a is not null)
        {
            await _a.DisposeAsync();
        }

        if (_b is not null)
        {
            await _b.DisposeAsync();
        }
    }
}
