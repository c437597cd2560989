using System.Text;
using System.Text.Json;
using Fathom.Engine.Templates;

namespace Fathom.EngineService.OpenAi;

/// <summary>Reads OpenAI's <c>messages</c> array (text content as a string or text parts; tool calls) into <see cref="ChatMessage"/>s.</summary>
internal static class ChatMessages
{
    public static IReadOnlyList<ChatMessage> Parse(JsonElement body)
    {
        if (body.Get("messages") is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() == 0)
        {
            throw OpenAiException.BadRequest("'messages' must be a non-empty array.", "messages");
        }

        var messages = new List<ChatMessage>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw RequestFields.Invalid("messages", "an array of objects");
            }

            string role = item.GetString("role") ?? throw OpenAiException.BadRequest("Every message needs a 'role'.", "messages");
            if (role is not ("system" or "developer" or "user" or "assistant" or "tool" or "ipython"))
            {
                throw OpenAiException.BadRequest($"Unknown message role '{role}'.", "messages");
            }

            messages.Add(new ChatMessage(role == "developer" ? "system" : role, Content(item))
            {
                ReasoningContent = item.GetString("reasoning_content"),
                ToolCalls = ToolCalls(item),
                ToolCallId = item.GetString("tool_call_id"),
                Name = item.GetString("name"),
            });
        }

        return messages;
    }

    private static string? Content(JsonElement message)
    {
        switch (message.Get("content"))
        {
            case null:
                return null;
            case { ValueKind: JsonValueKind.String } text:
                return RequestFields.StringOf(text, "messages");
            case { ValueKind: JsonValueKind.Array } parts:
                var builder = new StringBuilder();
                foreach (var part in parts.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object || part.GetString("type") != "text")
                    {
                        throw OpenAiException.BadRequest("Only text content parts are supported.", "messages");
                    }

                    builder.Append(part.GetString("text"));
                }

                return builder.ToString();
            default:
                throw RequestFields.Invalid("messages", "messages whose content is a string or an array of text parts");
        }
    }

    private static List<ChatToolCall>? ToolCalls(JsonElement message)
    {
        if (message.Get("tool_calls") is not { } calls)
        {
            return null;
        }

        if (calls.ValueKind != JsonValueKind.Array)
        {
            throw RequestFields.Invalid("tool_calls", "an array");
        }

        return
        [
            .. calls.EnumerateArray().Select(call =>
            {
                var function = call.ValueKind == JsonValueKind.Object ? call.Get("function") : null;
                if (function is not { ValueKind: JsonValueKind.Object } f || f.GetString("name") is not { } name)
                {
                    throw OpenAiException.BadRequest("Every tool call needs a function with a name.", "messages");
                }

                return new ChatToolCall(call.GetString("id") ?? "", name, f.GetString("arguments") ?? "{}");
            }),
        ];
    }
}
