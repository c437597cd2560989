namespace Fathom.Testing.Otlp;

/// <summary>
/// Decodes an OTLP <c>ExportTraceServiceRequest</c> (protobuf) into <see cref="OtlpSpan"/>s, reading only the fields
/// the tests look at. Field numbers from opentelemetry-proto: request 1 = resource_spans; ResourceSpans 1 = resource,
/// 2 = scope_spans; Resource 1 = attributes; ScopeSpans 1 = scope (name 1), 2 = spans; Span 1 = trace_id,
/// 2 = span_id, 4 = parent_span_id, 5 = name, 9 = attributes, 11 = events (name 2); KeyValue 1 = key, 2 = value;
/// AnyValue 1 = string, 2 = bool, 3 = int64, 4 = double.
/// </summary>
public static class OtlpTraceDecoder
{
    public static List<OtlpSpan> Decode(ReadOnlySpan<byte> request)
    {
        var spans = new List<OtlpSpan>();
        var reader = new ProtoReader(request);
        while (reader.TryReadField(out int field, out int wire))
        {
            if (field == 1 && wire == 2)
            {
                ReadResourceSpans(reader.ReadBytes(), spans);
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return spans;
    }

    private static void ReadResourceSpans(ReadOnlySpan<byte> data, List<OtlpSpan> spans)
    {
        string service = "";
        var scopes = new List<byte[]>();
        var reader = new ProtoReader(data);
        while (reader.TryReadField(out int field, out int wire))
        {
            if (field == 1 && wire == 2)
            {
                var resource = new ProtoReader(reader.ReadBytes());
                while (resource.TryReadField(out int f, out int w))
                {
                    if (f == 1 && w == 2)
                    {
                        var (key, value) = ReadKeyValue(resource.ReadBytes());
                        if (key == "service.name")
                        {
                            service = value?.ToString() ?? "";
                        }
                    }
                    else
                    {
                        resource.Skip(w);
                    }
                }
            }
            else if (field == 2 && wire == 2)
            {
                scopes.Add(reader.ReadBytes().ToArray());
            }
            else
            {
                reader.Skip(wire);
            }
        }

        foreach (var scope in scopes)
        {
            ReadScopeSpans(scope, service, spans);
        }
    }

    private static void ReadScopeSpans(ReadOnlySpan<byte> data, string service, List<OtlpSpan> spans)
    {
        string scopeName = "";
        var raw = new List<byte[]>();
        var reader = new ProtoReader(data);
        while (reader.TryReadField(out int field, out int wire))
        {
            if (field == 1 && wire == 2)
            {
                var scope = new ProtoReader(reader.ReadBytes());
                while (scope.TryReadField(out int f, out int w))
                {
                    if (f == 1 && w == 2)
                    {
                        scopeName = scope.ReadString();
                    }
                    else
                    {
                        scope.Skip(w);
                    }
                }
            }
            else if (field == 2 && wire == 2)
            {
                raw.Add(reader.ReadBytes().ToArray());
            }
            else
            {
                reader.Skip(wire);
            }
        }

        foreach (var span in raw)
        {
            spans.Add(ReadSpan(span, service, scopeName));
        }
    }

    private static OtlpSpan ReadSpan(ReadOnlySpan<byte> data, string service, string scope)
    {
        string traceId = "", spanId = "", parentId = "", name = "";
        var attributes = new Dictionary<string, object>();
        var events = new List<string>();
        var reader = new ProtoReader(data);
        while (reader.TryReadField(out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, 2): traceId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case (2, 2): spanId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case (4, 2): parentId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case (5, 2): name = reader.ReadString(); break;
                case (9, 2):
                    var (key, value) = ReadKeyValue(reader.ReadBytes());
                    if (value is not null)
                    {
                        attributes[key] = value;
                    }

                    break;
                case (11, 2): events.Add(ReadEventName(reader.ReadBytes())); break;
                default: reader.Skip(wire); break;
            }
        }

        return new OtlpSpan(service, scope, traceId, spanId, parentId, name, attributes, events);
    }

    private static string ReadEventName(ReadOnlySpan<byte> data)
    {
        var reader = new ProtoReader(data);
        while (reader.TryReadField(out int field, out int wire))
        {
            if (field == 2 && wire == 2)
            {
                return reader.ReadString();
            }

            reader.Skip(wire);
        }

        return "";
    }

    private static (string Key, object? Value) ReadKeyValue(ReadOnlySpan<byte> data)
    {
        string key = "";
        object? value = null;
        var reader = new ProtoReader(data);
        while (reader.TryReadField(out int field, out int wire))
        {
            if (field == 1 && wire == 2)
            {
                key = reader.ReadString();
            }
            else if (field == 2 && wire == 2)
            {
                value = ReadAnyValue(reader.ReadBytes());
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return (key, value);
    }

    private static object? ReadAnyValue(ReadOnlySpan<byte> data)
    {
        var reader = new ProtoReader(data);
        object? value = null;
        while (reader.TryReadField(out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, 2): value = reader.ReadString(); break;
                case (2, 0): value = reader.ReadVarint() != 0; break;
                case (3, 0): value = (long)reader.ReadVarint(); break;
                default: reader.Skip(wire); break;
            }
        }

        return value;
    }
}
