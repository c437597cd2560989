using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Fathom.Api.Gateway;

/// <summary>
/// Runs in YARP's proxy pipeline before load balancing. When a replica fails before the response has started
/// (refused, reset, timed out: nothing reached the client yet), that replica is taken out of this request's
/// candidates and the request, whose body was buffered, is sent again through the policy, labelled failover.
/// Once bytes have gone out, a failure is the stream's business (<see cref="StreamFailureHandler"/>).
/// </summary>
internal sealed class FailoverMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var candidates = proxy.AvailableDestinations;
        while (true)
        {
            await next(context);
            var error = context.Features.Get<IForwarderErrorFeature>();
            if (error is null || context.Response.HasStarted || !IsBeforeFirstByte(error.Error) || proxy.ProxiedDestination is not { } failed)
            {
                return;
            }

            candidates = [.. candidates.Where(d => !ReferenceEquals(d, failed))];
            if (candidates.Count == 0)
            {
                return;
            }

            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Request.Body.Position = 0;
            context.Items[RouteKind.Item] = RouteKind.Failover;
            proxy.AvailableDestinations = candidates;
            proxy.ProxiedDestination = null;
        }
    }

    private static bool IsBeforeFirstByte(ForwarderError error) =>
        error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.NoAvailableDestinations;
}
