using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Testing;

namespace Fathom.Api.Tests.Gateway;

/// <summary>Two real API processes sharing one real redis-server: the per-key limits hold across both.</summary>
[Collection(nameof(EngineReplicas))]
public sealed class SharedLimitsTests(EngineReplicas replicas)
{
    [Fact]
    public async Task Requests_per_window_are_counted_across_two_api_instances_and_pass_again_after_the_window()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var redis = await RedisServer.StartAsync();
        var settings = new[] { ("RequestsPerMinute", "4"), ("RateWindow", "00:00:04") };
        await using var first = await EngineReplicas.StartApiAsync([replicas.A.BaseAddress], Shared(redis), settings);
        await using var second = await EngineReplicas.StartApiAsync([replicas.A.BaseAddress], Shared(redis), settings);
        using var a = EngineReplicas.Http(first);
        using var b = EngineReplicas.Http(second);

        // Four requests spread over both instances: each instance alone is well under the limit.
        foreach (var http in new[] { a, b, a, b })
        {
            using var ok = await http.GetAsync("/v1/models", ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        TimeSpan wait = TimeSpan.Zero;
        foreach (var http in new[] { a, b })
        {
            using var limited = await http.GetAsync("/v1/models", ct);
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal("rate_limit_exceeded", (await limited.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error").GetProperty("code").GetString());
            var retryAfter = limited.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value.TotalSeconds, 1, 4);
            wait = retryAfter.Value > wait ? retryAfter.Value : wait;
        }

        await Task.Delay(wait + TimeSpan.FromMilliseconds(300), ct);
        foreach (var http in new[] { b, a })
        {
            using var again = await http.GetAsync("/v1/models", ct);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
    }

    [Fact]
    public async Task Tokens_per_window_are_charged_against_one_budget_across_instances()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var redis = await RedisServer.StartAsync();
        var settings = new[] { ("TokensPerMinute", "40") };
        await using var first = await EngineReplicas.StartApiAsync([replicas.A.BaseAddress], Shared(redis), settings);
        await using var second = await EngineReplicas.StartApiAsync([replicas.A.BaseAddress], Shared(redis), settings);
        using var a = EngineReplicas.Http(first);
        using var b = EngineReplicas.Http(second);
        object Body(int maxTokens) => new { model = EngineReplicas.ModelName, max_tokens = maxTokens, messages = new[] { new { role = "user", content = "Once" } } };

        using (var ok = await a.PostAsJsonAsync("/v1/chat/completions", Body(30), ct))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // 30 more would exceed 40 on the shared budget, though the second instance has charged nothing itself.
        using var limited = await b.PostAsJsonAsync("/v1/chat/completions", Body(30), ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains("tokens per minute", (await limited.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.NotNull(limited.Headers.RetryAfter);

        // What is left (40 - 31 or so) still passes: the refusal charged nothing.
        using var small = await b.PostAsJsonAsync("/v1/chat/completions", Body(2), ct);
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task A_stream_open_on_one_instance_takes_the_keys_only_slot_on_the_other_until_it_ends()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartAsync();
        await using var replica = new HeldStreamReplica();
        var settings = new[] { ("ConcurrentStreams", "1") };
        await using var first = await EngineReplicas.StartApiAsync([replica.Address], Shared(redis), settings);
        await using var second = await EngineReplicas.StartApiAsync([replica.Address], Shared(redis), settings);
        using var a = EngineReplicas.Http(first);
        using var b = EngineReplicas.Http(second);

        using (var open = await StreamAsync(a, ct))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
            using var refused = await StreamAsync(b, ct);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);

            replica.ReleaseAll();
            Assert.Contains("[DONE]", await open.Content.ReadAsStringAsync(ct));
        }

        // The slot is freed as the first response completes; the other instance gets it.
        Assert.Equal(HttpStatusCode.OK, await UntilAsync(b, HttpStatusCode.OK, TimeSpan.FromSeconds(5), ct));
    }

    [Fact]
    public async Task A_crashed_instances_stream_slot_comes_free_after_its_lease()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartAsync();
        await using var replica = new HeldStreamReplica();
        var settings = new[] { ("ConcurrentStreams", "1"), ("StreamLease", "00:00:03") };
        await using var doomed = await EngineReplicas.StartApiAsync([replica.Address], Shared(redis), settings);
        await using var survivor = await EngineReplicas.StartApiAsync([replica.Address], Shared(redis), settings);
        using var a = EngineReplicas.Http(doomed);
        using var b = EngineReplicas.Http(survivor);

        using var open = await StreamAsync(a, ct);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        // Held past the lease itself (3 s), so the slot is alive only because the instance renews it.
        await Task.Delay(TimeSpan.FromSeconds(4.5), ct);
        using (var refused = await StreamAsync(b, ct))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        doomed.Kill(); // no release: only the lease's expiry can free the slot
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, await UntilAsync(b, HttpStatusCode.OK, TimeSpan.FromSeconds(10), ct));
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 4.5);
        replica.ReleaseAll();
    }

    [Fact]
    public async Task Without_redis_each_instance_applies_its_own_limits_and_warns_once()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        var nothingThere = new Dictionary<string, string?> { ["ConnectionStrings__kvcache"] = $"127.0.0.1:{ServiceProcess.FreePort()}" };
        await using var api = await EngineReplicas.StartApiAsync([replicas.A.BaseAddress], nothingThere, ("RequestsPerMinute", "2"), ("RateWindow", "00:00:30"));
        using var http = EngineReplicas.Http(api);

        for (int i = 0; i < 2; i++)
        {
            using var ok = await http.GetAsync("/v1/models", ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var limited = await http.GetAsync("/v1/models", ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);

        // The connection attempt gives up in the background (requests never wait for it); then one warning, however many requests follow.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Warnings(api) == 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100, ct);
        }

        for (int i = 0; i < 3; i++)
        {
            using var stillLimited = await http.GetAsync("/v1/models", ct);
            Assert.Equal(HttpStatusCode.TooManyRequests, stillLimited.StatusCode);
        }

        Assert.Equal(1, Warnings(api));
    }

    private static int Warnings(ServiceProcess api) =>
        api.Output.Split('\n').Count(line => line.Contains("shared per-key limits is unreachable", StringComparison.Ordinal));

    private static Dictionary<string, string?> Shared(RedisServer redis) => new() { ["ConnectionStrings__kvcache"] = redis.ConnectionString };

    private static async Task<HttpResponseMessage> StreamAsync(HttpClient http, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "held", stream = true, messages = new[] { new { role = "user", content = "Hold" } } }),
        };
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    /// <summary>Opens (and ends) streams on <paramref name="http"/> until one answers <paramref name="wanted"/> or the time is up; the last status.</summary>
    private static async Task<HttpStatusCode> UntilAsync(HttpClient http, HttpStatusCode wanted, TimeSpan within, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var response = await StreamAsync(http, ct);
            if (response.StatusCode == wanted || clock.Elapsed > within)
            {
                return response.StatusCode;
            }

            await Task.Delay(100, ct);
        }
    }
}
