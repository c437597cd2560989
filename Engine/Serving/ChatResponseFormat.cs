using System.Text.Json;

namespace Fathom.Engine.Serving;

/// <summary>OpenAI's <c>response_format</c>: what shape the answer's content must have.</summary>
public sealed record ChatResponseFormat
{
    private ChatResponseFormat(ChatResponseFormatKind kind, JsonElement? schema, string? name)
    {
        Kind = kind;
        Schema = schema;
        Name = name;
    }

    /// <summary>Free text (<c>{"type":"text"}</c>).</summary>
    public static ChatResponseFormat Text { get; } = new(ChatResponseFormatKind.Text, null, null);

    /// <summary>Any JSON object (<c>{"type":"json_object"}</c>).</summary>
    public static ChatResponseFormat JsonObject { get; } = new(ChatResponseFormatKind.JsonObject, null, null);

    /// <summary>Which format.</summary>
    public ChatResponseFormatKind Kind { get; }

    /// <summary>The JSON Schema the content must match (for <see cref="ChatResponseFormatKind.JsonSchema"/>).</summary>
    public JsonElement? Schema { get; }

    /// <summary>The schema's name, as the client gave it.</summary>
    public string? Name { get; }

    /// <summary>
    /// JSON matching <paramref name="schema"/> (<c>{"type":"json_schema","json_schema":{"name","schema","strict"}}</c>).
    /// The schema is always enforced, strict or not (as vLLM does).
    /// </summary>
    public static ChatResponseFormat JsonSchema(JsonElement schema, string? name = null) =>
        new(ChatResponseFormatKind.JsonSchema, schema.Clone(), name);
}

/// <summary>The kinds of <see cref="ChatResponseFormat"/>.</summary>
public enum ChatResponseFormatKind
{
    /// <summary>Free text.</summary>
    Text,

    /// <summary>Any JSON object.</summary>
    JsonObject,

    /// <summary>JSON matching a schema.</summary>
    JsonSchema,
}
