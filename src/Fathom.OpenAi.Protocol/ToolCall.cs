using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// A tool call, <c>{"index"?,"id","type":"function","function":{"name","arguments"}}</c>. <c>index</c> is written only
/// in stream deltas, where it numbers the calls of a choice across chunks.
/// </summary>
public sealed record ToolCall
{
    /// <summary>The call's position among the choice's calls (stream deltas only; omitted when null).</summary>
    [JsonPropertyName("index")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Index { get; init; }

    /// <summary>The call id, which the tool's answer (<c>role: tool</c>) refers to.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>Always <c>function</c>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; init; } = "function";

    /// <summary>The function and its arguments.</summary>
    [JsonPropertyName("function")]
    public required ToolCallFunction Function { get; init; }

    /// <summary>A call of <paramref name="name"/> with JSON <paramref name="arguments"/>; <paramref name="index"/> for stream deltas.</summary>
    public static ToolCall Of(string id, string name, string arguments, int? index = null) =>
        new() { Index = index, Id = id, Function = new ToolCallFunction { Name = name, Arguments = arguments } };
}
