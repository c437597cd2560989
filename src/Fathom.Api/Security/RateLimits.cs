using System.Globalization;
using System.Threading.RateLimiting;
using Fathom.Api.Gateway;
using Fathom.Api.OpenAi;
using Microsoft.AspNetCore.RateLimiting;

namespace Fathom.Api.Security;

/// <summary>
/// Per-key limits with ASP.NET Core rate limiting, chained: requests per window (fixed window) and streams open at
/// once (concurrency; the lease lives as long as the response). Rejections answer 429 with <c>Retry-After</c> in
/// OpenAI's error shape. With Redis configured and reachable, <see cref="SharedLimitsMiddleware"/> applies the
/// same limits across instances and these step aside. Tokens per minute need a per-request permit count, so <see cref="TokenRateLimitMiddleware"/>
/// does that one.
/// </summary>
internal static class RateLimits
{
    public static void Configure(RateLimiterOptions limiter, ApiOptions options)
    {
        limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<HttpContext, string>(context =>
                LocalKeyOf(context) is { } key && options.RequestsPerMinute > 0
                    ? RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = options.RequestsPerMinute,
                        Window = options.RateWindow,
                        QueueLimit = 0,
                    })
                    : RateLimitPartition.GetNoLimiter("")),
            PartitionedRateLimiter.Create<HttpContext, string>(context =>
                LocalKeyOf(context) is { } key && options.ConcurrentStreams > 0 && context.Features.Get<GatewayRequest>() is { Stream: true }
                    ? RateLimitPartition.GetConcurrencyLimiter(key, _ => new ConcurrencyLimiterOptions
                    {
                        PermitLimit = options.ConcurrentStreams,
                        QueueLimit = 0,
                    })
                    : RateLimitPartition.GetNoLimiter("")));
        limiter.OnRejected = (context, cancellationToken) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
            return new ValueTask(RejectAsync(context.HttpContext, retryAfter, "Rate limit reached for requests or concurrent streams of this API key."));
        };
    }

    public static Task RejectAsync(HttpContext context, TimeSpan retryAfter, string message)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return OpenAiError.WriteAsync(context, StatusCodes.Status429TooManyRequests, message, "requests", "rate_limit_exceeded");
    }

    /// <summary>The 429 message when a key's tokens-per-minute budget is spent (local and shared limits alike).</summary>
    public const string TokensMessage = "Rate limit reached for tokens per minute of this API key.";

    /// <summary>The key's id for <c>/v1</c> generation traffic; null for everything else (probes, metrics).</summary>
    public static string? KeyOf(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/v1") && context.Items[ApiKeyMiddleware.KeyIdItem] is string key ? key : null;

    /// <summary>The key's id when this instance's limiters apply: not when the shared (Redis) limits already admitted the request.</summary>
    private static string? LocalKeyOf(HttpContext context) =>
        context.Items.ContainsKey(SharedLimitsMiddleware.AdmittedItem) ? null : KeyOf(context);
}
