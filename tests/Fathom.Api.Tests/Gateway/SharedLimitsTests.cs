using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Testing;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// Two real API processes sharing one real redis-server: the per-key limits hold across both. Smoke tests of the
/// wiring; the limits' logic (tokens, stream slots and leases, fallback) is covered in process by
/// <see cref="Units.SharedLimitsWithRedisTests"/> and <see cref="Units.SharedLimitsMiddlewareTests"/>.
/// </summary>
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
}
