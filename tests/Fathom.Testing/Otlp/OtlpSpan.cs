namespace Fathom.Testing.Otlp;

/// <summary>One span as an OTLP exporter sent it: ids in lower-case hex, string and integer attributes, event names.</summary>
public sealed record OtlpSpan(
    string ServiceName,
    string Scope,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    IReadOnlyDictionary<string, object> Attributes,
    IReadOnlyList<string> Events)
{
    public override string ToString() => $"{ServiceName}/{Scope}: {Name} trace {TraceId} span {SpanId} parent {ParentSpanId}";
}
