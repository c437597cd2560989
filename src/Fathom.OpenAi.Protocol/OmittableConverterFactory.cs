using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Fathom.OpenAi.Protocol;

/// <summary>Writes an <see cref="Omittable{T}"/> as its value or <c>null</c>; reading any present value marks it written.</summary>
internal sealed class OmittableConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Omittable<>);

    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "T is a reference type, so the closed converter needs no generated code.")]
    [UnconditionalSuppressMessage("Trimming", "IL2055", Justification = "Omittable<T>'s converter keeps the same constraints as Omittable<T>.")]
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class Converter<T> : JsonConverter<Omittable<T>>
        where T : class
    {
        // Null tokens reach Read (and Write sees a default instance only when the property's ignore condition is missing).
        public override bool HandleNull => true;

        public override Omittable<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            new(reader.TokenType == JsonTokenType.Null ? null : JsonSerializer.Deserialize(ref reader, TypeInfo(options)));

        public override void Write(Utf8JsonWriter writer, Omittable<T> value, JsonSerializerOptions options)
        {
            if (value.Value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                JsonSerializer.Serialize(writer, value.Value, TypeInfo(options));
            }
        }

        private static JsonTypeInfo<T> TypeInfo(JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }
}
