using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// Checks a parsed body against <see cref="RequestLimits"/> before any field is interpreted, so that a request
/// too large in one dimension is a 400 naming that field and costs no tokenizing, templating or queue slot.
/// Fields of the wrong shape are left to the typed readers, which name them in their own words.
/// </summary>
internal static class RequestBounds
{
    public static void Check(JsonElement body, RequestLimits limits)
    {
        if (body.Get("messages") is { ValueKind: JsonValueKind.Array } messages)
        {
            int count = messages.GetArrayLength();
            Within(count <= limits.MaxMessages, "messages", $"At most {limits.MaxMessages} messages are allowed, got {count}.");
            long bytes = Bytes(messages);
            Within(bytes <= limits.MaxMessageBytes, "messages",
                $"The strings in messages take {bytes} bytes; at most {limits.MaxMessageBytes} are allowed.");
        }

        if (body.Get("tools") is { ValueKind: JsonValueKind.Array } tools)
        {
            int count = tools.GetArrayLength();
            Within(count <= limits.MaxTools, "tools", $"At most {limits.MaxTools} tools are allowed, got {count}.");
            int bytes = JsonMarshal.GetRawUtf8Value(tools).Length;
            Within(bytes <= limits.MaxToolsBytes, "tools", $"The tools take {bytes} bytes of JSON; at most {limits.MaxToolsBytes} are allowed.");
        }

        if (body.Get("n") is { ValueKind: JsonValueKind.Number } n && n.TryGetDouble(out double value))
        {
            Within(value <= limits.MaxN, "n", $"n must be at most {limits.MaxN}, got {n.GetRawText()}.");
        }

        if (body.Get("stop") is { } stop)
        {
            var strings = stop.ValueKind switch
            {
                JsonValueKind.String => [stop],
                JsonValueKind.Array => stop.EnumerateArray().ToArray(),
                _ => [],
            };
            Within(strings.Length <= limits.MaxStopSequences, "stop", $"At most {limits.MaxStopSequences} stop sequences are allowed, got {strings.Length}.");
            foreach (var s in strings.Where(s => s.ValueKind == JsonValueKind.String))
            {
                int bytes = Encoding.UTF8.GetByteCount(RequestFields.StringOf(s, "stop"));
                Within(bytes <= limits.MaxStopBytes, "stop", $"A stop sequence may be at most {limits.MaxStopBytes} bytes, got {bytes}.");
            }
        }

        if (body.Get("stop_token_ids") is { ValueKind: JsonValueKind.Array } stopIds)
        {
            int count = stopIds.GetArrayLength();
            Within(count <= limits.MaxStopTokenIds, "stop_token_ids", $"At most {limits.MaxStopTokenIds} stop_token_ids are allowed, got {count}.");
        }

        if (body.Get("logit_bias") is { ValueKind: JsonValueKind.Object } bias)
        {
            int count = bias.EnumerateObject().Count();
            Within(count <= limits.MaxLogitBiasEntries, "logit_bias", $"At most {limits.MaxLogitBiasEntries} logit_bias entries are allowed, got {count}.");
        }
    }

    /// <summary>Bytes of every string value under <paramref name="element"/>, as sent (escaped UTF-8: no decoding needed).</summary>
    private static long Bytes(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => JsonMarshal.GetRawUtf8Value(element).Length - 2,
        JsonValueKind.Array => element.EnumerateArray().Sum(Bytes),
        JsonValueKind.Object => element.EnumerateObject().Sum(p => Bytes(p.Value)),
        _ => 0,
    };

    private static void Within(bool ok, string param, string message)
    {
        if (!ok)
        {
            throw OpenAiException.BadRequest(message, param, "request_limit_exceeded");
        }
    }
}
