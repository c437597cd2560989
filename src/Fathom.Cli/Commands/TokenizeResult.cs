using System.Text.Json.Serialization;

namespace Fathom.Cli.Commands;

/// <summary>The JSON shape of <c>fathom tokenize --json</c>.</summary>
internal sealed record TokenizeResult([property: JsonPropertyName("ids")] int[] Ids);

/// <summary>Source-generated serializer for <see cref="TokenizeResult"/>.</summary>
[JsonSerializable(typeof(TokenizeResult))]
internal sealed partial class TokenizeJsonContext : JsonSerializerContext;
