using System.Text.Json;
using Fathom.Engine.Serving;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// The fields that constrain what a generation may say: <c>response_format</c> (text, json_object, json_schema),
/// <c>tool_choice</c> with its named function, <c>parallel_tool_calls</c>, and Fathom's <c>max_reasoning_tokens</c>
/// (for reasoning models under a constraint). Checked here for shape; the engine compiles and enforces them.
/// </summary>
internal sealed record StructuredOutputRequest(ChatResponseFormat? ResponseFormat, ChatToolChoice? ToolChoice, bool ParallelToolCalls, int? MaxReasoningTokens)
{
    public static StructuredOutputRequest Parse(JsonElement body)
    {
        int? budget = body.GetInt("max_reasoning_tokens");
        if (budget is < 0)
        {
            throw OpenAiException.BadRequest($"max_reasoning_tokens must be at least 0, got {budget}.", "max_reasoning_tokens");
        }

        return new StructuredOutputRequest(ParseResponseFormat(body), ParseToolChoice(body), body.GetBool("parallel_tool_calls") ?? true, budget);
    }

    /// <summary>OpenAI's <c>response_format</c>; null when absent.</summary>
    public static ChatResponseFormat? ParseResponseFormat(JsonElement body)
    {
        if (body.Get("response_format") is not { ValueKind: not JsonValueKind.Null } format)
        {
            return null;
        }

        if (format.ValueKind != JsonValueKind.Object)
        {
            throw RequestFields.Invalid("response_format", "an object");
        }

        switch (format.GetString("type"))
        {
            case "text":
                return ChatResponseFormat.Text;
            case "json_object":
                return ChatResponseFormat.JsonObject;
            case "json_schema":
                if (format.Get("json_schema") is not { ValueKind: JsonValueKind.Object } spec)
                {
                    throw OpenAiException.BadRequest("response_format 'json_schema' needs a 'json_schema' object with 'name' and 'schema'.", "response_format");
                }

                if (spec.Get("schema") is not { } schema || schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
                {
                    throw OpenAiException.BadRequest("response_format.json_schema.schema must be a JSON Schema object.", "response_format");
                }

                _ = spec.GetBool("strict"); // enforced either way; read so that a non-boolean is rejected
                return ChatResponseFormat.JsonSchema(schema, spec.GetString("name"));
            default:
                throw OpenAiException.BadRequest("response_format.type must be 'text', 'json_object' or 'json_schema'.", "response_format");
        }
    }

    // none | auto | required | {"type":"function","function":{"name":...}}; null when absent. ChatTools has checked the shape.
    private static ChatToolChoice? ParseToolChoice(JsonElement body) => body.Get("tool_choice") switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString() switch
        {
            "none" => ChatToolChoice.None,
            "required" => ChatToolChoice.Required,
            _ => ChatToolChoice.Auto,
        },
        { ValueKind: JsonValueKind.Object } o when o.Get("function") is { ValueKind: JsonValueKind.Object } f && f.GetString("name") is { } name =>
            ChatToolChoice.Function(name),
        _ => null,
    };
}
