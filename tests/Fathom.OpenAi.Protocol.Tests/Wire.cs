using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fathom.OpenAi.Protocol.Tests;

/// <summary>Serializes records as the services do, to compare with the bytes the endpoints wrote before the records.</summary>
internal static class Wire
{
    public static string Json<T>(T value, JsonTypeInfo<T> typeInfo) => Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
}
