using Fathom.Api.Security;

namespace Fathom.Api.Gateway;

/// <summary>
/// Settles a generation request's token charge (<see cref="TokenCharge"/>, taken by the shared or the local
/// limiter further on) with what it used, once its response has ended: the reported usage (the JSON response's
/// <c>usage</c>, the stream's usage chunk); for a stream cut short, the prompt estimate plus the data events seen;
/// nothing for a request the engine refused (4xx). A failed non-streamed response, whose usage is unknown, keeps
/// its charge.
/// </summary>
internal sealed class UsageSettlementMiddleware(RequestDelegate next, ApiMetrics metrics, ILogger<UsageSettlementMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<GatewayRequest>() is not { } request)
        {
            await next(context);
            return;
        }

        var original = context.Response.Body;
        var meter = new UsageMeter(original, context.Response, request.UsageAddedByGateway);
        context.Response.Body = meter;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
            if (context.Features.Get<TokenCharge>() is { } charge)
            {
                meter.Complete();
                int? actual = Actual(context, request, meter);
                metrics.Settled(charge.Charged, actual ?? charge.Charged);
                if (actual is { } used)
                {
                    try
                    {
                        await charge.SettleAsync(used);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        logger.LogWarning(e, "Could not settle a request's token charge; it stays as charged");
                    }
                }
            }
        }
    }

    private static int? Actual(HttpContext context, GatewayRequest request, UsageMeter meter)
    {
        if (meter.PromptTokens is { } prompt && meter.CompletionTokens is { } completion)
        {
            return (int)Math.Min((long)prompt + completion, int.MaxValue);
        }

        if (meter.EventStream)
        {
            return request.PromptTokens + meter.DataEvents;
        }

        int status = context.Response.StatusCode;
        return status is >= 400 and < 500 ? 0 : null;
    }
}
