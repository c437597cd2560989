using System.Collections.Concurrent;

namespace Fathom.Api.Gateway;

/// <summary>The last queue depth and KV usage each replica reported, by replica address.</summary>
internal sealed class ReplicaLoad
{
    private readonly ConcurrentDictionary<string, (double Waiting, double KvUsage)> _byReplica = new();

    public void Report(string replica, double waiting, double kvUsage) => _byReplica[replica] = (waiting, kvUsage);

    public (double Waiting, double KvUsage) Of(string replica) => _byReplica.TryGetValue(replica, out var load) ? load : (0, 0);
}
