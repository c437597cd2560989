using System.Diagnostics.Metrics;

namespace Fathom.Api.Gateway;

/// <summary>The <c>Fathom.Api</c> meter: <c>fathom.api.requests</c> by route kind and replica (docs/metrics.md).</summary>
internal sealed class ApiMetrics
{
    public const string MeterName = "Fathom.Api";

    private readonly Counter<long> _requests;

    public ApiMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("fathom.api.requests", "{request}", "Requests forwarded to an engine replica");
    }

    public void Forwarded(string route, string replica) =>
        _requests.Add(1, new KeyValuePair<string, object?>("fathom.route", route), new KeyValuePair<string, object?>("fathom.replica", replica));
}
