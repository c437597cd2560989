using System.Diagnostics;
using Fathom.Api.Security;
using Fathom.Testing;
using Microsoft.Extensions.Logging;

namespace Fathom.Api.Tests.Gateway.Units;

/// <summary>
/// <see cref="SharedLimits"/> against a real redis-server: two instances on one server stand for two API processes.
/// </summary>
public sealed class SharedLimitsWithRedisTests
{
    private const string Key = "key-1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<SharedLimit> LimitAsync(SharedLimits limits, int tokens = 0, bool stream = false)
    {
        var decision = await limits.TryAcquireAsync(Key, tokens, stream, Ct);
        Assert.NotNull(decision);
        return decision.Limit;
    }

    [Fact]
    public async Task Requests_are_counted_across_instances_and_pass_again_after_the_window()
    {
        await using var redis = await RedisServer.StartAsync();
        void Configure(ApiOptions o) => (o.RequestsPerMinute, o.RateWindow) = (4, TimeSpan.FromSeconds(2));
        await using var a = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);
        await using var b = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);

        foreach (var instance in new[] { a, b, a, b })
        {
            Assert.Equal(SharedLimit.None, await LimitAsync(instance));
        }

        var refused = await a.TryAcquireAsync(Key, 0, false, Ct);
        Assert.Equal(SharedLimit.Requests, refused!.Limit);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
        Assert.Equal(SharedLimit.Requests, await LimitAsync(b));
        // Another key has its own window.
        Assert.Equal(SharedLimit.None, (await b.TryAcquireAsync("key-2", 0, false, Ct))!.Limit);

        await Task.Delay(refused.RetryAfter + TimeSpan.FromMilliseconds(100), Ct);
        Assert.Equal(SharedLimit.None, await LimitAsync(b));
    }

    [Fact]
    public async Task A_settled_charge_returns_unused_tokens_to_its_own_window_only()
    {
        await using var redis = await RedisServer.StartAsync();
        void Configure(ApiOptions o) => (o.RequestsPerMinute, o.TokensPerMinute, o.RateWindow) = (0, 100, TimeSpan.FromSeconds(2));
        await using var a = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);
        await using var b = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);

        var first = await a.TryAcquireAsync(Key, 90, false, Ct);
        Assert.Equal(SharedLimit.None, first!.Limit);
        Assert.Equal(90, first.Charge!.Charged);
        Assert.Equal(SharedLimit.Tokens, await LimitAsync(b, tokens: 90));

        await first.Charge.SettleAsync(10);

        // Another instance sees the refund: 10 + 90 fit in 100.
        var second = await b.TryAcquireAsync(Key, 90, false, Ct);
        Assert.Equal(SharedLimit.None, second!.Limit);
        Assert.Equal(SharedLimit.Tokens, await LimitAsync(a, tokens: 1));

        // After the window turned over, a late refund is not credited to the new window.
        await Task.Delay(TimeSpan.FromSeconds(2.2), Ct);
        Assert.Equal(SharedLimit.None, await LimitAsync(a, tokens: 95));
        await second.Charge!.SettleAsync(0);
        Assert.Equal(SharedLimit.Tokens, await LimitAsync(b, tokens: 10));
    }

    [Fact]
    public async Task Tokens_are_charged_against_one_budget_and_a_refusal_charges_nothing()
    {
        await using var redis = await RedisServer.StartAsync();
        void Configure(ApiOptions o) => (o.RequestsPerMinute, o.TokensPerMinute) = (0, 40);
        await using var a = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);
        await using var b = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);

        Assert.Equal(SharedLimit.None, await LimitAsync(a, tokens: 30));
        var refused = await b.TryAcquireAsync(Key, 30, false, Ct);
        Assert.Equal(SharedLimit.Tokens, refused!.Limit);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        Assert.Equal(SharedLimit.None, await LimitAsync(b, tokens: 10));
        Assert.Equal(SharedLimit.Tokens, await LimitAsync(a, tokens: 1));
    }

    [Fact]
    public async Task A_request_larger_than_the_token_budget_still_passes_in_an_empty_window()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var limits = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, o => o.TokensPerMinute = 40);

        Assert.Equal(SharedLimit.None, await LimitAsync(limits, tokens: 1000));
        Assert.Equal(SharedLimit.Tokens, await LimitAsync(limits, tokens: 1));
    }

    [Fact]
    public async Task A_stream_slot_is_held_across_instances_until_its_lease_is_released()
    {
        await using var redis = await RedisServer.StartAsync();
        void Configure(ApiOptions o) => o.ConcurrentStreams = 1;
        await using var a = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);
        await using var b = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);

        var open = await a.TryAcquireAsync(Key, 1, stream: true, Ct);
        Assert.Equal(SharedLimit.None, open!.Limit);
        Assert.NotNull(open.Lease);
        var refused = await b.TryAcquireAsync(Key, 1, stream: true, Ct);
        Assert.Equal(SharedLimit.Streams, refused!.Limit);
        Assert.Null(refused.Lease);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        // Requests that are not streams need no slot.
        Assert.Equal(SharedLimit.None, await LimitAsync(b));

        await open.Lease.DisposeAsync();
        await SharedLimitsFactory.UntilAsync(async () => await LimitAsync(b, stream: true) == SharedLimit.None, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_renewed_lease_outlives_its_term_and_an_abandoned_one_expires()
    {
        await using var redis = await RedisServer.StartAsync();
        void Configure(ApiOptions o) => (o.ConcurrentStreams, o.StreamLease) = (1, TimeSpan.FromSeconds(1.5));
        await using var a = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);
        await using var b = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, Configure);

        var renewed = (await a.TryAcquireAsync(Key, 1, stream: true, Ct))!.Lease!;
        renewed.Start();
        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);
        Assert.Equal(SharedLimit.Streams, await LimitAsync(b, stream: true));
        await renewed.DisposeAsync();
        await SharedLimitsFactory.UntilAsync(async () => await LimitAsync(b, stream: true) == SharedLimit.None, TimeSpan.FromSeconds(5));

        // b now holds the slot and never renews it (a crashed instance): it comes free after one lease.
        var clock = Stopwatch.StartNew();
        await SharedLimitsFactory.UntilAsync(async () => await LimitAsync(a, stream: true) == SharedLimit.None, TimeSpan.FromSeconds(5));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Without_a_connection_string_limits_are_not_shared()
    {
        await using var limits = SharedLimitsFactory.Create(null, _ => { });

        Assert.False(limits.Configured);
        Assert.Null(await limits.TryAcquireAsync(Key, 1, false, Ct));
    }

    [Fact]
    public async Task An_unreachable_redis_defers_to_the_local_limits_and_warns_once()
    {
        var logger = new RecordingLogger<SharedLimits>();
        await using var limits = SharedLimitsFactory.Create($"127.0.0.1:{ServiceProcess.FreePort()}", _ => { }, logger);

        Assert.True(limits.Configured);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 5; i++)
        {
            // Never waits for the connection: null (the caller's local limiters apply) at once.
            Assert.Null(await limits.TryAcquireAsync(Key, 1, false, Ct));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        await SharedLimitsFactory.UntilAsync(() => Task.FromResult(logger.Count(LogLevel.Warning) > 0), TimeSpan.FromSeconds(10));
        for (int i = 0; i < 5; i++)
        {
            Assert.Null(await limits.TryAcquireAsync(Key, 1, false, Ct));
        }

        Assert.Equal(1, logger.Count(LogLevel.Warning));
    }

    [Fact]
    public async Task Limits_fall_back_while_redis_is_down_and_are_shared_again_when_it_is_back()
    {
        await using var redis = await RedisServer.StartAsync();
        var logger = new RecordingLogger<SharedLimits>();
        await using var limits = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, o => o.RequestsPerMinute = 100, logger);
        Assert.Equal(SharedLimit.None, await LimitAsync(limits));

        await redis.KillAsync();
        await SharedLimitsFactory.UntilAsync(async () => await limits.TryAcquireAsync(Key, 0, false, Ct) is null, TimeSpan.FromSeconds(10));
        Assert.Equal(1, logger.Count(LogLevel.Warning));

        await redis.RestartAsync();
        await SharedLimitsFactory.UntilAsync(async () => await limits.TryAcquireAsync(Key, 0, false, Ct) is not null, TimeSpan.FromSeconds(20));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("back", StringComparison.Ordinal));
    }
}
