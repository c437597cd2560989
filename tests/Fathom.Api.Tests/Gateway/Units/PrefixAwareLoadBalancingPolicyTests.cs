using Fathom.Api.Gateway;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Fathom.Api.Tests.Gateway.Units;

public sealed class PrefixAwareLoadBalancingPolicyTests
{
    private static readonly ClusterState Cluster = new("engine");

    private readonly ReplicaLoad _load = new();
    private readonly DestinationState[] _replicas = [Replica("http://10.0.0.1:8080"), Replica("http://10.0.0.2:8080"), Replica("http://10.0.0.3:8080")];

    private static DestinationState Replica(string address) =>
        new(address, new DestinationModel(new DestinationConfig { Address = address }));

    private PrefixAwareLoadBalancingPolicy Policy(Action<ApiOptions>? configure = null)
    {
        var options = new ApiOptions();
        configure?.Invoke(options);
        return new PrefixAwareLoadBalancingPolicy(_load, Options.Create(options));
    }

    private static (DestinationState? Chosen, string? Kind) Pick(PrefixAwareLoadBalancingPolicy policy, ulong? prefix, IReadOnlyList<DestinationState> available, HttpContext? context = null)
    {
        context ??= new DefaultHttpContext();
        context.Features.Set(new GatewayRequest(prefix, false, 0));
        var chosen = policy.PickDestination(context, Cluster, available);
        return (chosen, context.Items[RouteKind.Item] as string);
    }

    // Not Assert.Equal on tuples: its structural comparison walks DestinationState's object graph (and overflows).
    private static void AssertPicked(DestinationState expected, string kind, (DestinationState? Chosen, string? Kind) actual)
    {
        Assert.Same(expected, actual.Chosen);
        Assert.Equal(kind, actual.Kind);
    }

    private void Report(DestinationState replica, double waiting, double kvUsage = 0) =>
        _load.Report(replica.Model.Config.Address, waiting, kvUsage);

    [Fact]
    public void A_prefix_always_goes_to_the_same_replica_whatever_the_order_of_the_list()
    {
        var policy = Policy();
        for (ulong prefix = 1; prefix < 50; prefix++)
        {
            var (owner, kind) = Pick(policy, prefix, _replicas);
            Assert.Equal(RouteKind.Prefix, kind);
            Assert.Same(owner, Pick(policy, prefix, _replicas).Chosen);
            Assert.Same(owner, Pick(policy, prefix, [.. _replicas.Reverse()]).Chosen);
            // A fresh policy (another API instance) ranks alike: the ranking depends on addresses only.
            Assert.Same(owner, Pick(Policy(), prefix, _replicas).Chosen);
        }
    }

    [Fact]
    public void Different_prefixes_spread_over_every_replica()
    {
        var policy = Policy();
        var owners = Enumerable.Range(1, 300).Select(p => Pick(policy, (ulong)p * 0x9E3779B97F4A7C15UL, _replicas).Chosen!).ToList();

        foreach (var replica in _replicas)
        {
            // 100 expected per replica; a skewed hash would starve one.
            Assert.InRange(owners.Count(o => o == replica), 60, 140);
        }
    }

    [Fact]
    public void Losing_a_replica_moves_only_the_prefixes_it_owned()
    {
        var policy = Policy();
        var lost = _replicas[1];
        DestinationState[] healthy = [_replicas[0], _replicas[2]];
        int moved = 0;
        for (ulong prefix = 1; prefix <= 200; prefix++)
        {
            var before = Pick(policy, prefix, _replicas).Chosen;
            var after = Pick(policy, prefix, healthy).Chosen;
            Assert.True(after == healthy[0] || after == healthy[1], "routed to the lost replica");
            if (before != lost)
            {
                Assert.Same(before, after);
            }
            else
            {
                moved++;
            }
        }

        Assert.True(moved > 0, "the lost replica owned no prefix");
    }

    [Fact]
    public void An_owner_over_its_load_bound_spills_to_the_prefixs_stable_second_home()
    {
        var policy = Policy(); // LoadFactor 1.25, LoadSlack 2
        const ulong prefix = 42;
        var owner = Pick(policy, prefix, _replicas).Chosen!;

        // Total 4: bound = max(1.25 × 5 / 3, 5 / 3 + 2) ≈ 3.67; the owner at 4 is over it.
        Report(owner, waiting: 4);
        var (spill, kind) = Pick(policy, prefix, _replicas);
        Assert.NotSame(owner, spill);
        Assert.Equal(RouteKind.Load, kind);
        Assert.Same(spill, Pick(policy, prefix, _replicas).Chosen);

        // Under the bound the owner keeps its prefix, although others are idler.
        Report(owner, waiting: 3);
        AssertPicked(owner, RouteKind.Prefix, Pick(policy, prefix, _replicas));
    }

    [Fact]
    public void An_evenly_busy_cluster_keeps_every_prefix_on_its_owner()
    {
        var policy = Policy(o => (o.LoadFactor, o.LoadSlack) = (1.0, 0));
        foreach (var replica in _replicas)
        {
            // Bound = (30 + 1) / 3: the average plus a third, so equal loads are all under it.
            Report(replica, waiting: 10);
        }

        for (ulong prefix = 1; prefix < 20; prefix++)
        {
            Assert.Equal(RouteKind.Prefix, Pick(policy, prefix, _replicas).Kind);
        }
    }

    [Fact]
    public void Requests_without_a_prefix_go_to_the_least_loaded_replica_then_the_least_kv_used()
    {
        var policy = Policy();
        Report(_replicas[0], waiting: 3);
        Report(_replicas[1], waiting: 1, kvUsage: 0.9);
        Report(_replicas[2], waiting: 1, kvUsage: 0.2);

        for (int i = 0; i < 6; i++)
        {
            AssertPicked(_replicas[2], RouteKind.Load, Pick(policy, null, _replicas));
        }
    }

    [Fact]
    public void Idle_replicas_take_prefixless_requests_in_turns()
    {
        var policy = Policy();
        var chosen = Enumerable.Range(0, 6).Select(_ => Pick(policy, null, _replicas).Chosen!).ToList();

        Assert.True(_replicas.ToHashSet().SetEquals(chosen), "a replica was left out");
    }

    [Fact]
    public void Round_robin_mode_ignores_the_prefix()
    {
        var policy = Policy(o => o.Routing = "round-robin");
        var chosen = Enumerable.Range(0, 6).Select(_ => Pick(policy, 42, _replicas)).ToList();

        Assert.All(chosen, c => Assert.Equal(RouteKind.Load, c.Kind));
        Assert.True(_replicas.ToHashSet().SetEquals(chosen.Select(c => c.Chosen!)), "a replica was left out");
    }

    [Fact]
    public void No_available_replica_means_no_destination()
    {
        Assert.Null(Policy().PickDestination(new DefaultHttpContext(), Cluster, []));
    }

    [Fact]
    public void A_single_replica_takes_every_prefix()
    {
        AssertPicked(_replicas[1], RouteKind.Prefix, Pick(Policy(), 42, [_replicas[1]]));
    }

    [Fact]
    public void A_second_pick_for_the_same_request_is_a_failover()
    {
        var policy = Policy();
        var context = new DefaultHttpContext();
        var first = Pick(policy, 42, _replicas, context);
        Assert.Equal(RouteKind.Prefix, first.Kind);

        var retry = Pick(policy, 42, [.. _replicas.Where(r => r != first.Chosen)], context);
        Assert.Equal(RouteKind.Failover, retry.Kind);
        Assert.NotSame(first.Chosen, retry.Chosen);
    }
}
