using System.Diagnostics.Metrics;

namespace Fathom.Api.Gateway;

/// <summary>
/// The <c>Fathom.Api</c> meter: <c>fathom.api.requests</c> by route kind and replica, and the per-key token budget's
/// <c>fathom.api.tokens.charged</c> (taken up front) and <c>fathom.api.tokens.used</c> (what the charges settled to)
/// (docs/metrics.md).
/// </summary>
internal sealed class ApiMetrics
{
    public const string MeterName = "Fathom.Api";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _charged;
    private readonly Counter<long> _used;

    public ApiMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("fathom.api.requests", "{request}", "Requests forwarded to an engine replica");
        _charged = meter.CreateCounter<long>("fathom.api.tokens.charged", "{token}", "Tokens charged to keys' budgets before their requests ran");
        _used = meter.CreateCounter<long>("fathom.api.tokens.used", "{token}", "Tokens the charged requests were settled to when their responses ended");
    }

    public void Settled(int charged, int used)
    {
        _charged.Add(charged);
        _used.Add(used);
    }

    public void Forwarded(string route, string replica) =>
        _requests.Add(1, new KeyValuePair<string, object?>("fathom.route", route), new KeyValuePair<string, object?>("fathom.replica", replica));
}
