using System.ClientModel;
using System.Globalization;
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
    public const string ModelFile = "models/stories260K.gguf";
    public const string ModelName = "stories260K";
    public const string Key = "sk-fathom-test-key";

    private ServiceProcess? _a;
    private ServiceProcess? _b;

    public ServiceProcess A => _a ?? throw new InvalidOperationException("the engine replicas did not start");

    public ServiceProcess B => _b ?? throw new InvalidOperationException("the engine replicas did not start");

    /// <summary>Skips (or fails under FATHOM_REQUIRE_FIXTURES) when the model is missing.</summary>
    public EngineReplicas Require()
    {
        _ = SharedFixtures.Default.GetPath(ModelFile);
        return this;
    }

    public static Task<ServiceProcess> StartEngineAsync() =>
        ServiceProcess.StartAsync("Fathom.EngineService.dll",
            ["--model", SharedFixtures.Default.GetPath(ModelFile), "--threads", "1"], readyPath: "/health/ready");

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
        int i = 0;
        foreach (var replica in replicas)
        {
            env[$"services__engine__http__{i++}"] = replica.ToString().TrimEnd('/');
        }

        foreach (var (name, value) in settings)
        {
            env["Fathom__Api__" + name] = value;
        }

        return ServiceProcess.StartAsync("Fathom.Api.dll", environment: env);
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
        new(ModelName, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(api.BaseAddress, "v1") });

    /// <summary>The sum of the Prometheus series <paramref name="series"/> over the label sets that contain <paramref name="labelFilter"/>.</summary>
    public static async Task<double> MetricAsync(ServiceProcess service, string series, string labelFilter = "")
    {
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        string text = await http.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        double sum = 0;
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith(series, StringComparison.Ordinal) && line.Length > series.Length && line[series.Length] is ' ' or '{'
                && line.Contains(labelFilter, StringComparison.Ordinal))
            {
                string value = line[(line.LastIndexOf('}') is var close and >= 0 ? close + 1 : series.Length)..].Trim().Split(' ')[0];
                sum += double.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    public async ValueTask InitializeAsync()
    {
        if (!SharedFixtures.Default.Exists(ModelFile))
        {
            return;
        }

        var starts = new[] { StartEngineAsync(), StartEngineAsync() };
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
