using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Fathom.Api.Gateway;

/// <summary>
/// The YARP routes and cluster: every <c>/v1/*</c> request not answered here goes to the <c>engine</c> service,
/// whose replicas service discovery resolves from <c>services:engine:https|http:N</c> (what Aspire's
/// <c>WithReference(engine)</c> injects). Replicas are probed on <c>/health/ready</c> and drop out while it fails.
/// </summary>
internal static class EngineCluster
{
    public const string ClusterId = "engine";
    public const string ServiceName = "engine";

    public static RouteConfig[] Routes() =>
    [
        new RouteConfig { RouteId = "openai", ClusterId = ClusterId, Match = new RouteMatch { Path = "/v1/{**rest}" } },
    ];

    public static ClusterConfig[] Clusters(IConfiguration configuration, ApiOptions options)
    {
        // No replicas configured (the planner alone, or tests of the API by itself): an empty cluster answers 503.
        bool any = configuration.GetSection($"services:{ServiceName}").GetChildren().Any();
        var destinations = any
            ? new Dictionary<string, DestinationConfig> { [ServiceName] = new() { Address = $"https+http://{ServiceName}" } }
            : new Dictionary<string, DestinationConfig>();
        return
        [
            new ClusterConfig
            {
                ClusterId = ClusterId,
                LoadBalancingPolicy = PrefixAwareLoadBalancingPolicy.PolicyName,
                Destinations = destinations,
                HealthCheck = new HealthCheckConfig
                {
                    Active = new ActiveHealthCheckConfig
                    {
                        Enabled = true,
                        Interval = options.HealthCheckInterval,
                        Timeout = TimeSpan.FromSeconds(2),
                        Policy = "ConsecutiveFailures",
                        Path = "/health/ready",
                    },
                    Passive = new PassiveHealthCheckConfig
                    {
                        Enabled = true,
                        Policy = "TransportFailureRate",
                        ReactivationPeriod = options.HealthCheckInterval * 2,
                    },
                },
                HttpRequest = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromMinutes(10) },
            },
        ];
    }
}
