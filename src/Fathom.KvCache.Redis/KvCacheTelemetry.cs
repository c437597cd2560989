using System.Diagnostics;

namespace Fathom.KvCache.Redis;

/// <summary>Names under which the KV tier reports (register them with OpenTelemetry).</summary>
public static class KvCacheTelemetry
{
    /// <summary>The meter name and the activity source name.</summary>
    public const string Name = "Fathom.KvCache";

    /// <summary>Spans around remote fetches and write batches.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);
}
