using System.Net.Http;
using System.Net.Sockets;
using Fathom.Api.OpenAi;
using Fathom.OpenAi.Protocol;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Fathom.Api.Gateway;

/// <summary>
/// Runs in YARP's proxy pipeline before load balancing. A request is sent to another replica only when the first
/// provably did not start the work: the connection was refused (nothing was sent), or the replica answered 503
/// (loading or draining: <see cref="ReplicaNotReadyException"/>). That replica is taken out of this request's
/// candidates and the request, whose body was buffered, goes through the policy again, labelled failover. A 503
/// also takes the replica out of rotation until its readiness probe decides again. Anything else, a 500, a
/// timeout, a reset after the request was sent, is answered as it is: the replica may have accepted the request,
/// and a request that crashed one replica would crash the next.
/// </summary>
internal sealed class FailoverMiddleware(RequestDelegate next, IDestinationHealthUpdater health, IOptions<ApiOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var candidates = proxy.AvailableDestinations;
        while (true)
        {
            await next(context);
            var error = context.Features.Get<IForwarderErrorFeature>();
            if (error is null || context.Response.HasStarted)
            {
                return;
            }

            if (!NotStarted(error) || proxy.ProxiedDestination is not { } failed)
            {
                await AnswerAsync(context, error);
                return;
            }

            if (error.Exception is ReplicaNotReadyException && context.GetRouteModel().Cluster is { } cluster)
            {
                // The active probe of /health/ready takes over within two intervals; until then the replica gets nothing.
                health.SetPassive(cluster, failed, DestinationHealth.Unhealthy, options.Value.HealthCheckInterval * 2);
            }

            candidates = [.. candidates.Where(d => !ReferenceEquals(d, failed))];
            if (candidates.Count == 0)
            {
                await AnswerAsync(context, error);
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

    // YARP ends a failed forward with a bare status (502, 503 or 504) and no body; clients get OpenAI's error shape.
    private static Task AnswerAsync(HttpContext context, IForwarderErrorFeature error)
    {
        if (error.Exception is ReplicaNotReadyException || error.Error == ForwarderError.NoAvailableDestinations)
        {
            context.Response.Headers.RetryAfter = "5";
            return OpenAiError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
                "No engine replica is ready (loading or draining); retry later.", ErrorTypes.ServiceUnavailable, "no_replica_ready");
        }

        return error.Error == ForwarderError.RequestTimedOut
            ? OpenAiError.WriteAsync(context, StatusCodes.Status504GatewayTimeout,
                "The engine replica did not answer in time.", ErrorTypes.Server, "replica_timeout")
            : OpenAiError.WriteAsync(context, StatusCodes.Status502BadGateway,
                "The engine replica failed before answering; the request may have been processed in part.", ErrorTypes.Server, "replica_failed");
    }

    /// <summary>Whether the replica cannot have started the request: refused before sending, or a 503.</summary>
    internal static bool NotStarted(IForwarderErrorFeature error) =>
        error.Error == ForwarderError.Request && error.Exception switch
        {
            ReplicaNotReadyException => true,
            // Only a connection that never opened: a reset after the request went out is a ConnectionError too.
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError, InnerException: SocketException socket } =>
                socket.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable,
            _ => false,
        };
}
