using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Fathom.Api.Gateway;

/// <summary>
/// Fathom's replica choice. A request with a prompt prefix goes to the replica that ranks highest for that prefix
/// under rendezvous (highest-random-weight) hashing, a consistent hash: adding or losing a replica moves only the
/// prefixes it owned. Bounded load: a replica takes the prefix only while its load (requests in flight from
/// here plus its reported queue) stays under <c>LoadFactor × (total + 1) / replicas</c>; otherwise the next in
/// the prefix's ranking does, so a hot prefix spills to a stable second home instead of swamping one replica.
/// Requests without a prefix go to the least-loaded replica (queue, then KV usage). Round-robin mode exists for
/// comparison.
/// </summary>
internal sealed class PrefixAwareLoadBalancingPolicy(ReplicaLoad load, IOptions<ApiOptions> options) : ILoadBalancingPolicy
{
    public const string PolicyName = "FathomPrefixAware";

    private readonly ConcurrentDictionary<string, ulong> _replicaSeeds = new();
    private int _roundRobin;

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count == 0)
        {
            return null;
        }

        var (chosen, kind) = Choose(context.Features.Get<GatewayRequest>()?.PrefixHash, availableDestinations);
        if (context.Items.ContainsKey(RouteKind.Item))
        {
            kind = RouteKind.Failover;
        }

        context.Items[RouteKind.Item] = kind;
        return chosen;
    }

    private (DestinationState Chosen, string Kind) Choose(ulong? prefix, IReadOnlyList<DestinationState> replicas)
    {
        if (options.Value.Routing.Equals("round-robin", StringComparison.OrdinalIgnoreCase))
        {
            return (replicas[(int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)replicas.Count)], RouteKind.Load);
        }

        if (prefix is { } key && replicas.Count > 1)
        {
            double total = 0;
            foreach (var r in replicas)
            {
                total += Load(r);
            }

            double bound = Math.Max(options.Value.LoadFactor * (total + 1) / replicas.Count, (total + 1) / replicas.Count + options.Value.LoadSlack);
            var ranked = replicas.OrderByDescending(r => Mix(key ^ Seed(r))).ToList();
            for (int i = 0; i < ranked.Count; i++)
            {
                if (Load(ranked[i]) < bound)
                {
                    return (ranked[i], i == 0 ? RouteKind.Prefix : RouteKind.Load);
                }
            }

            return (ranked[0], RouteKind.Prefix);
        }

        if (prefix is not null)
        {
            return (replicas[0], RouteKind.Prefix);
        }

        // Least loaded; ties broken by KV usage, then by turns so idle replicas share the work.
        int start = (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)replicas.Count);
        DestinationState best = replicas[start];
        for (int j = 1; j < replicas.Count; j++)
        {
            var r = replicas[(start + j) % replicas.Count];
            if ((Load(r), load.Of(r.Model.Config.Address).KvUsage).CompareTo((Load(best), load.Of(best.Model.Config.Address).KvUsage)) < 0)
            {
                best = r;
            }
        }

        return (best, RouteKind.Load);
    }

    private double Load(DestinationState replica) => replica.ConcurrentRequestCount + load.Of(replica.Model.Config.Address).Waiting;

    private ulong Seed(DestinationState replica) =>
        _replicaSeeds.GetOrAdd(replica.Model.Config.Address, a => BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(a)), 0));

    // SplitMix64's finalizer: spreads the XOR of key and replica seed into a uniform rank.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }
}
