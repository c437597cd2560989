using System.Text.Json;
using Fathom.Engine.Templates;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// OpenAI's <c>tools</c> and <c>tool_choice</c>: the tools are handed to the chat template (which renders them in the
/// model's own format), and the chat session parses the answer back into <c>tool_calls</c> with the template family's parser.
/// </summary>
internal sealed class ChatTools
{
    private ChatTools(IReadOnlyList<JsonElement> tools, bool enabled)
    {
        Tools = tools;
        Enabled = enabled;
    }

    /// <summary>The tool definitions, as sent. // (n_tools)</summary>
    public IReadOnlyList<JsonElement> Tools { get; }

    /// <summary>False when <c>tool_choice</c> is <c>none</c>: the tools are rendered but the answer is not parsed for calls.</summary>
    public bool Enabled { get; }

    /// <summary>Reads and checks <c>tools</c> and <c>tool_choice</c>; null when the request offers no tools.</summary>
    public static ChatTools? Parse(JsonElement body)
    {
        string? choice = ToolChoice(body.Get("tool_choice"));
        if (body.Get("tools") is not { } tools || tools.ValueKind == JsonValueKind.Null)
        {
            if (choice is "required" or "function")
            {
                throw OpenAiException.BadRequest("tool_choice 'required' or a named function needs 'tools'.", "tool_choice");
            }

            return null;
        }

        if (tools.ValueKind != JsonValueKind.Array)
        {
            throw RequestFields.Invalid("tools", "an array");
        }

        var list = new List<JsonElement>();
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object || tool.GetString("type") != "function"
                || tool.Get("function") is not { ValueKind: JsonValueKind.Object } function || function.GetString("name") is not { Length: > 0 })
            {
                throw OpenAiException.BadRequest("Each tool must be {\"type\":\"function\",\"function\":{\"name\":...}}.", "tools");
            }

            list.Add(tool.Clone());
        }

        return list.Count == 0 ? null : new ChatTools(list, choice != "none");
    }

    // none | auto | required, or {"type":"function","function":{"name":...}} (read as "function"); null when absent.
    private static string? ToolChoice(JsonElement? choice)
    {
        switch (choice)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                return null;
            case { ValueKind: JsonValueKind.String } s when RequestFields.StringOf(s, "tool_choice") is "none" or "auto" or "required":
                return s.GetString();
            case { ValueKind: JsonValueKind.Object } o when o.GetString("type") == "function"
                && o.Get("function") is { ValueKind: JsonValueKind.Object } function && function.GetString("name") is { Length: > 0 }:
                return "function";
            default:
                throw OpenAiException.BadRequest("tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}.", "tool_choice");
        }
    }
}
