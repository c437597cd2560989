using Fathom.Api.Gateway;

namespace Fathom.Api.Security;

/// <summary>
/// Applies the per-key limits through <see cref="SharedLimits"/> when Redis is configured and reachable, and marks
/// the request so the local limiters (<see cref="RateLimits"/>, <see cref="TokenRateLimitMiddleware"/>) let it
/// through. When Redis cannot answer, the request is left unmarked and the local limiters apply.
/// </summary>
internal sealed class SharedLimitsMiddleware(RequestDelegate next, SharedLimits limits)
{
    /// <summary>Set in <see cref="HttpContext.Items"/> when the shared limits admitted the request.</summary>
    public const string AdmittedItem = "fathom.limits.shared";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!limits.Configured || RateLimits.KeyOf(context) is not { } key)
        {
            await next(context);
            return;
        }

        var request = context.Features.Get<GatewayRequest>();
        // Only generation requests are charged tokens (as locally): at least one, so a token budget counts every request.
        int tokens = request is null ? 0 : Math.Max(1, request.EstimatedTokens);
        var decision = await limits.TryAcquireAsync(key, tokens, request is { Stream: true }, context.RequestAborted);
        if (decision is null)
        {
            await next(context);
            return;
        }

        if (decision.Limit != SharedLimit.None)
        {
            await RateLimits.RejectAsync(context, decision.RetryAfter, decision.Limit switch
            {
                SharedLimit.Tokens => RateLimits.TokensMessage,
                SharedLimit.Streams => "Rate limit reached for concurrent streams of this API key.",
                _ => "Rate limit reached for requests per minute of this API key.",
            });
            return;
        }

        context.Items[AdmittedItem] = true;
        if (decision.Charge is { } charge)
        {
            context.Features.Set(charge);
        }

        if (decision.Lease is not { } lease)
        {
            await next(context);
            return;
        }

        await using (lease)
        {
            lease.Start();
            await next(context);
        }
    }
}
