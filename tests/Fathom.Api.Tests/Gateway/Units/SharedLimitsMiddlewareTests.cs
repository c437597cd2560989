using System.Text.Json;
using Fathom.Api.Gateway;
using Fathom.Api.Security;
using Fathom.Testing;
using Microsoft.AspNetCore.Http;

namespace Fathom.Api.Tests.Gateway.Units;

/// <summary><see cref="SharedLimitsMiddleware"/> in process, over a real redis-server: what a refusal looks like and when the local limiters take over.</summary>
public sealed class SharedLimitsMiddlewareTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DefaultHttpContext Request(string path = "/v1/chat/completions", bool stream = false, int tokens = 10, string? key = "key-1")
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        context.RequestAborted = Ct;
        if (key is not null)
        {
            context.Items[ApiKeyMiddleware.KeyIdItem] = key;
        }

        context.Features.Set(new GatewayRequest(null, stream, tokens));
        return context;
    }

    /// <summary>Runs the middleware; true when it passed the request on.</summary>
    private static async Task<bool> InvokeAsync(SharedLimits limits, HttpContext context)
    {
        bool passed = false;
        await new SharedLimitsMiddleware(_ => { passed = true; return Task.CompletedTask; }, limits).InvokeAsync(context);
        return passed;
    }

    private static JsonElement Error(HttpContext context) =>
        JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray()).RootElement.GetProperty("error");

    [Fact]
    public async Task An_admitted_request_is_marked_so_the_local_limiters_step_aside()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var limits = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, _ => { });
        var context = Request();

        Assert.True(await InvokeAsync(limits, context));
        Assert.True(context.Items.ContainsKey(SharedLimitsMiddleware.AdmittedItem));
    }

    [Fact]
    public async Task A_spent_token_budget_answers_429_with_retry_after_in_whole_seconds()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var limits = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, o => (o.TokensPerMinute, o.RateWindow) = (40, TimeSpan.FromSeconds(30)));
        Assert.True(await InvokeAsync(limits, Request(tokens: 30)));

        var refused = Request(tokens: 30);
        Assert.False(await InvokeAsync(limits, refused));
        Assert.Equal(StatusCodes.Status429TooManyRequests, refused.Response.StatusCode);
        Assert.InRange(int.Parse(refused.Response.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture), 1, 30);
        var error = Error(refused);
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal(RateLimits.TokensMessage, error.GetProperty("message").GetString());
        Assert.False(refused.Items.ContainsKey(SharedLimitsMiddleware.AdmittedItem));
    }

    [Fact]
    public async Task A_stream_holds_its_slot_while_the_response_runs_and_frees_it_after()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var limits = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, o => o.ConcurrentStreams = 1);
        HttpContext? refusedDuring = null;

        await new SharedLimitsMiddleware(async _ =>
        {
            refusedDuring = Request(stream: true);
            Assert.False(await InvokeAsync(limits, refusedDuring));
        }, limits).InvokeAsync(Request(stream: true));

        Assert.Equal(StatusCodes.Status429TooManyRequests, refusedDuring!.Response.StatusCode);
        Assert.Contains("concurrent streams", Error(refusedDuring).GetProperty("message").GetString(), StringComparison.Ordinal);
        await SharedLimitsFactory.UntilAsync(() => InvokeAsync(limits, Request(stream: true)), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Without_redis_the_request_passes_unmarked_to_the_local_limiters()
    {
        await using var limits = SharedLimitsFactory.Create($"127.0.0.1:{ServiceProcess.FreePort()}", o => o.RequestsPerMinute = 1);
        for (int i = 0; i < 3; i++)
        {
            var context = Request();
            Assert.True(await InvokeAsync(limits, context));
            Assert.False(context.Items.ContainsKey(SharedLimitsMiddleware.AdmittedItem));
        }
    }

    [Theory]
    [InlineData("/health", "key-1")]
    [InlineData("/v1/chat/completions", null)]
    public async Task Probes_and_unkeyed_requests_are_not_counted(string path, string? key)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var limits = await SharedLimitsFactory.ConnectedAsync(redis.ConnectionString, o => o.RequestsPerMinute = 1);

        for (int i = 0; i < 3; i++)
        {
            var context = Request(path, key: key);
            Assert.True(await InvokeAsync(limits, context));
            Assert.False(context.Items.ContainsKey(SharedLimitsMiddleware.AdmittedItem));
        }

        // The key's one request of the window is still there.
        Assert.True(await InvokeAsync(limits, Request()));
        Assert.False(await InvokeAsync(limits, Request()));
    }
}
