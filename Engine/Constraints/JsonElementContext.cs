using System.Text.Json.Serialization;

namespace Fathom.Engine.Constraints;

/// <summary>Source-generated serialization for turning property names into JSON string literals.</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class JsonElementContext : JsonSerializerContext;
