using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>The function part of a <see cref="ToolCall"/>: <c>{"name","arguments"}</c>.</summary>
public sealed record ToolCallFunction
{
    /// <summary>The function's name, one of the offered tools.</summary>
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>The arguments as a JSON text (a string, as OpenAI sends them).</summary>
    [JsonPropertyName("arguments")]
    public required string Arguments { get; init; }
}
