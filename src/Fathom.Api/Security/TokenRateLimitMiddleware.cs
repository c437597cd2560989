using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Fathom.Api.Gateway;
using Microsoft.Extensions.Options;

namespace Fathom.Api.Security;

/// <summary>
/// Tokens per window per key: each request is charged its estimate (prompt characters / 4 + <c>max_tokens</c>),
/// up front, from a fixed-window limiter; over budget answers 429 with <c>Retry-After</c>.
/// </summary>
internal sealed class TokenRateLimitMiddleware(RequestDelegate next, IOptions<ApiOptions> options)
{
    private readonly ConcurrentDictionary<string, FixedWindowRateLimiter> _byKey = new();

    public async Task InvokeAsync(HttpContext context)
    {
        int limit = options.Value.TokensPerMinute;
        if (limit <= 0 || context.Items.ContainsKey(SharedLimitsMiddleware.AdmittedItem) || context.Items[ApiKeyMiddleware.KeyIdItem] is not string key || context.Features.Get<GatewayRequest>() is not { } request)
        {
            await next(context);
            return;
        }

        var limiter = _byKey.GetOrAdd(key, _ => new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit,
            Window = options.Value.RateWindow,
            QueueLimit = 0,
        }));
        using var lease = limiter.AttemptAcquire(Math.Clamp(request.EstimatedTokens, 1, limit));
        if (!lease.IsAcquired)
        {
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : options.Value.RateWindow;
            await RateLimits.RejectAsync(context, retryAfter, RateLimits.TokensMessage);
            return;
        }

        await next(context);
    }
}
