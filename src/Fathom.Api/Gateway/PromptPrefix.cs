using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Fathom.Api.Gateway;

/// <summary>
/// The routing key of a generation request. For chat: the role and the first <c>chars</c> characters of every
/// message up to and including the first user message (the system prompt plus the opening question); for
/// completions: the first <c>chars</c> characters of the prompt. Every later turn of a conversation starts with
/// exactly these messages, so the whole conversation hashes alike and finds its KV blocks on one replica,
/// while different conversations that merely share a system prompt can spread over replicas. The request's
/// <c>cache_salt</c> (per API key by default: <see cref="CacheSalt"/>) leads the key, so the same prompt from two
/// keys routes independently, as it caches independently.
/// </summary>
internal static class PromptPrefix
{
    public static ulong? Hash(JsonElement body, int chars, string? cacheSalt = null)
    {
        var key = new StringBuilder();
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                string role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
                key.Append(role).Append('\u001f');
                AppendContent(key, message.TryGetProperty("content", out var c) ? c : default, chars);
                key.Append('\u001e');
                if (role == "user")
                {
                    break;
                }
            }
        }
        else if (body.TryGetProperty("prompt", out var prompt))
        {
            // A list of prompts (strings or token arrays) routes by its first; a flat array is one token-id prompt.
            bool list = prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() > 0 && prompt[0].ValueKind is JsonValueKind.String or JsonValueKind.Array;
            var first = list ? prompt[0] : prompt;
            if (first.ValueKind == JsonValueKind.Array)
            {
                AppendRaw(key, first, chars);
            }
            else
            {
                AppendContent(key, first, chars);
            }
        }

        if (key.Length == 0)
        {
            return null;
        }

        if (cacheSalt is not null)
        {
            key.Insert(0, '\u001d').Insert(0, cacheSalt);
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString()), digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }

    /// <summary>Characters of prompt text in the body (messages' or prompt's), for the token estimate.</summary>
    public static int PromptChars(JsonElement body)
    {
        int n = 0;
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                n += message.TryGetProperty("content", out var c) ? c.GetRawText().Length : 0;
            }
        }
        else if (body.TryGetProperty("prompt", out var prompt))
        {
            n += prompt.GetRawText().Length;
        }

        return n;
    }

    private static void AppendContent(StringBuilder key, JsonElement content, int chars)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                string s = content.GetString()!;
                key.Append(s, 0, Math.Min(chars, s.Length));
                break;
            case JsonValueKind.Array:
                // Content parts: the text parts in order.
                int before = key.Length;
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                    {
                        string text = t.GetString()!;
                        key.Append(text, 0, Math.Min(Math.Max(0, chars - (key.Length - before)), text.Length));
                    }
                }

                break;
            case JsonValueKind.Undefined:
            case JsonValueKind.Null:
                break;
            default:
                AppendRaw(key, content, chars);
                break;
        }
    }

    // Token-id prompts and the like: their JSON text stands for them.
    private static void AppendRaw(StringBuilder key, JsonElement value, int chars)
    {
        string raw = value.GetRawText();
        key.Append(raw, 0, Math.Min(chars, raw.Length));
    }
}
