using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Fathom.Api.Gateway;

/// <summary>
/// The body forwarded to an engine when the gateway must change it: <c>cache_salt</c> set to the key's salt
/// (<see cref="CacheSalt"/>) and <c>stream_options.include_usage</c> turned on (so the charge can be settled).
/// Every other property is copied byte for byte as the client sent it, escapes included: the engine judges the
/// request exactly as it would have.
/// </summary>
internal static class ForwardedBody
{
    public static byte[] Rewrite(JsonElement body, string? cacheSalt, bool includeUsage)
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write("{"u8);
        bool first = true;
        foreach (var property in body.EnumerateObject())
        {
            if ((cacheSalt is not null && property.NameEquals("cache_salt")) || (includeUsage && property.NameEquals("stream_options")))
            {
                continue;
            }

            Property(output, ref first, property);
        }

        if (cacheSalt is not null)
        {
            Comma(output, ref first);
            output.Write("\"cache_salt\":\""u8);
            output.Write(JsonEncodedText.Encode(cacheSalt).EncodedUtf8Bytes);
            output.Write("\""u8);
        }

        if (includeUsage)
        {
            Comma(output, ref first);
            output.Write("\"stream_options\":{\"include_usage\":true"u8);
            if (body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object)
            {
                bool none = false;
                foreach (var option in options.EnumerateObject())
                {
                    if (!option.NameEquals("include_usage"))
                    {
                        Property(output, ref none, option);
                    }
                }
            }

            output.Write("}"u8);
        }

        output.Write("}"u8);
        return output.WrittenSpan.ToArray();
    }

    private static void Property(ArrayBufferWriter<byte> output, ref bool first, JsonProperty property)
    {
        Comma(output, ref first);
        output.Write("\""u8);
        output.Write(JsonMarshal.GetRawUtf8PropertyName(property));
        output.Write("\":"u8);
        output.Write(JsonMarshal.GetRawUtf8Value(property.Value));
    }

    private static void Comma(ArrayBufferWriter<byte> output, ref bool first)
    {
        if (!first)
        {
            output.Write(","u8);
        }

        first = false;
    }
}
