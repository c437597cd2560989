using Fathom.Api.Gateway;
using Microsoft.Extensions.Options;

namespace Fathom.Api.Security;

/// <summary>
/// Tokens per window per key, on this instance (when the shared limits did not already admit the request): each
/// generation request is charged its estimate (<see cref="TokenEstimate"/>) up front; over budget answers 429 with
/// <c>Retry-After</c>. The charge is left as a <see cref="TokenCharge"/> feature for settlement with the actual usage.
/// </summary>
internal sealed class TokenRateLimitMiddleware(RequestDelegate next, IOptions<ApiOptions> options, TokenWindows windows)
{
    public async Task InvokeAsync(HttpContext context)
    {
        int limit = options.Value.TokensPerMinute;
        if (limit <= 0 || context.Items.ContainsKey(SharedLimitsMiddleware.AdmittedItem) || context.Items[ApiKeyMiddleware.KeyIdItem] is not string key || context.Features.Get<GatewayRequest>() is not { } request)
        {
            await next(context);
            return;
        }

        var (charge, retryAfter) = windows.TryTake(key, request.EstimatedTokens, limit, options.Value.RateWindow);
        if (charge is null)
        {
            await RateLimits.RejectAsync(context, retryAfter, RateLimits.TokensMessage);
            return;
        }

        context.Features.Set(charge);
        await next(context);
    }
}
