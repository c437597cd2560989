namespace Fathom.Api.Gateway;

/// <summary>
/// Runs in YARP's pipeline after load balancing (which skips the policy when one candidate is left): names the
/// chosen replica and why in the response (<c>x-fathom-replica</c>, <c>x-fathom-route</c>) and counts it in
/// <c>fathom.api.requests</c>.
/// </summary>
internal sealed class ReplicaChoiceMiddleware(RequestDelegate next, ApiMetrics metrics)
{
    public const string ReplicaHeader = "x-fathom-replica";
    public const string RouteHeader = "x-fathom-route";

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        if (proxy.AvailableDestinations is [var chosen])
        {
            string kind = context.Items[RouteKind.Item] as string
                ?? (context.Features.Get<GatewayRequest>()?.PrefixHash is null ? RouteKind.Load : RouteKind.Prefix);
            context.Items[RouteKind.Item] = kind;
            string replica = chosen.Model.Config.Address;
            context.Response.Headers[ReplicaHeader] = replica;
            context.Response.Headers[RouteHeader] = kind;
            metrics.Forwarded(kind, replica);
        }

        return next(context);
    }
}
