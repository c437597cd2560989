using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fathom.Connector.Wire;

/// <summary>Source-generated serializers for the wire types (no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(WireErrorEnvelope))]
[JsonSerializable(typeof(List<WireContentPart>))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(string))]
internal sealed partial class FathomJsonContext : JsonSerializerContext;
