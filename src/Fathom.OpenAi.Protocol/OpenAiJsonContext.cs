using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// Source-generated JSON metadata of the protocol's records. Serialize with <see cref="Wire"/>, not the generated
/// <c>Default</c>: the wire keeps text readable (<c>&lt;think&gt;</c>, not <c>\u003Cthink\u003E</c>; the bodies are JSON,
/// never HTML). Field names are each property's <see cref="JsonPropertyNameAttribute"/>, so no naming policy applies.
/// </summary>
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(CompletionChunk))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ErrorResponse))]
// Omittable<T>'s converter looks its value's metadata up by type.
[JsonSerializable(typeof(Usage))]
public sealed partial class OpenAiJsonContext : JsonSerializerContext
{
    /// <summary>The context that writes the wire format (relaxed escaping, compact).</summary>
    public static OpenAiJsonContext Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
