namespace Fathom.AppHost;

/// <summary>What serves the <c>kvcache</c> resource (the engines' shared prefix-cache tier).</summary>
internal enum KvCacheMode
{
    /// <summary>Decide from the execution context and what this machine has.</summary>
    Auto,

    /// <summary>An existing Redis named by <c>ConnectionStrings:kvcache</c>.</summary>
    ConnectionString,

    /// <summary>A <c>redis-server</c> executable from PATH, started by the orchestrator.</summary>
    RedisServer,

    /// <summary>The embedded Garnet server (<c>src/Fathom.KvCache.Garnet</c>) as a project.</summary>
    Garnet,

    /// <summary>A Redis container (<c>AddRedis</c>); needs a container runtime in run mode.</summary>
    Container,

    /// <summary>No shared tier: each engine keeps only its local prefix cache.</summary>
    None,
}
