using System.Net.Http.Json;
using System.Text.Json;
using Fathom.KvCache.Redis.Tests.Servers;
using Fathom.Testing;
using StackExchange.Redis;

namespace Fathom.KvCache.Redis.Tests.Service;

/// <summary>
/// Engine service processes (stories260K) sharing one real server through <c>ConnectionStrings:kvcache</c>, over
/// HTTP; derived classes choose embedded Garnet or redis-server.
/// </summary>
public abstract class EngineServiceTierTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];

    protected IKvTestServer Server { get; private set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>87 token ids: 5 full 16-token blocks before the block holding the last token.</summary>
    private static int[] Prompt { get; } =
        [1, .. Enumerable.Range(1, 86).Select(i => 3 + ((i * 7919) % 509))];

    protected abstract Task<IKvTestServer> StartServerAsync();

    public async ValueTask InitializeAsync() => Server = await StartServerAsync();

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await Server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_second_service_reports_the_prefix_as_cached_and_answers_identically()
    {
        var a = await StartServiceAsync();
        var b = await StartServiceAsync();

        var first = await CompleteAsync(a);
        await WaitForKeysAsync(6); // 87 prompt + 15 computed output tokens: 6 full blocks written behind
        var second = await CompleteAsync(b);

        Assert.Equal(0, first.Cached);
        Assert.Equal(87, second.PromptTokens);
        Assert.Equal(5 * 16, second.Cached);
        Assert.Equal(first.Text, second.Text);
        Assert.Equal(5 * 16, await MetricAsync(b, "fathom_kvcache_remote_hit_tokens_total"));
        Assert.Equal(5, await MetricAsync(b, "fathom_kvcache_remote_hits_total"));
        Assert.Equal(0, await MetricAsync(b, "fathom_kvcache_remote_circuit_open"));
    }

    [Fact]
    public async Task A_restarted_service_hits_redis_and_one_without_redis_still_serves()
    {
        var a = await StartServiceAsync();
        var first = await CompleteAsync(a);
        await WaitForKeysAsync(6);
        await a.DisposeAsync();
        _owned.Remove(a);

        var restarted = await StartServiceAsync();
        var again = await CompleteAsync(restarted);
        Assert.Equal(5 * 16, again.Cached);
        Assert.Equal(first.Text, again.Text);

        await Server.KillAsync();
        var alone = await StartServiceAsync();
        var withoutRedis = await CompleteAsync(alone);
        Assert.Equal(0, withoutRedis.Cached);
        Assert.Equal(first.Text, withoutRedis.Text);
    }

    [Fact]
    public async Task Salted_blocks_reach_another_service_only_under_the_same_salt()
    {
        var a = await StartServiceAsync();
        var b = await StartServiceAsync();

        var first = await CompleteAsync(a, "tenant-a");
        await WaitForKeysAsync(6);
        var otherSalt = await CompleteAsync(b, "tenant-b");
        var unsalted = await CompleteAsync(b);
        var sameSalt = await CompleteAsync(b, "tenant-a");

        Assert.Equal(0, first.Cached);
        Assert.Equal(0, otherSalt.Cached);
        Assert.Equal(0, unsalted.Cached);
        Assert.Equal(5 * 16, sameSalt.Cached);
        Assert.Equal(5 * 16, await MetricAsync(b, "fathom_kvcache_remote_hit_tokens_total"));
        Assert.Equal(first.Text, sameSalt.Text);
        Assert.Equal(first.Text, otherSalt.Text);
    }

    private async Task<ServiceProcess> StartServiceAsync()
    {
        var service = await EngineServiceProcess.StartAsync(environment: new Dictionary<string, string?>
        {
            ["ConnectionStrings__kvcache"] = Server.ConnectionString,
            ["Fathom__KvCache__FetchTimeout"] = "00:00:03", // shared CI machines: a timeout is not what this tests
        });
        _owned.Add(service);
        return service;
    }

    private static async Task<(string Text, int PromptTokens, int Cached)> CompleteAsync(ServiceProcess service, string? salt = null)
    {
        using var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        object request = salt is null
            ? new { prompt = Prompt, max_tokens = 16, temperature = 0, ignore_eos = true }
            : new { prompt = Prompt, max_tokens = 16, temperature = 0, ignore_eos = true, cache_salt = salt };
        using var response = await http.PostAsJsonAsync("/v1/completions", request, Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}\n{service.Output}");
        var usage = body.GetProperty("usage");
        int cached = usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
            ? details.GetProperty("cached_tokens").GetInt32()
            : 0;
        return (body.GetProperty("choices")[0].GetProperty("text").GetString()!, usage.GetProperty("prompt_tokens").GetInt32(), cached);
    }

    /// <summary>A Prometheus series of the service's /metrics, summed over its labels.</summary>
    private static async Task<double> MetricAsync(ServiceProcess service, string series)
    {
        var value = await PrometheusText.ScrapeAsync(service.BaseAddress, series, cancellationToken: Ct);
        Assert.True(value is not null, $"{series} is not on /metrics");
        return value.Value;
    }

    /// <summary>Waits for the write-behind queue of a service to reach the server.</summary>
    private async Task WaitForKeysAsync(long count)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString + ",abortConnect=false");
        var db = redis.GetDatabase();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        long keys = 0;
        while (DateTime.UtcNow < deadline && (keys = (long)await db.ExecuteAsync("DBSIZE")) < count)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(keys >= count, $"the server holds {keys} keys, expected {count}");
    }
}
