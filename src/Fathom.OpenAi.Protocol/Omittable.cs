using System.Text.Json.Serialization;

namespace Fathom.OpenAi.Protocol;

/// <summary>
/// A field that is either left out of the JSON (the default) or written, possibly as <c>null</c>. OpenAI tells the two
/// apart where a request opts in, e.g. every stream chunk carries <c>"usage":null</c> only once
/// <c>stream_options.include_usage</c> asks for the final usage chunk; a nullable property alone cannot say "omit".
/// Declare such properties with <c>[JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]</c>.
/// </summary>
/// <typeparam name="T">The field's type.</typeparam>
[JsonConverter(typeof(OmittableConverterFactory))]
public readonly record struct Omittable<T>
    where T : class
{
    /// <summary>A written field: <paramref name="value"/>, or <c>null</c> when it is null.</summary>
    public Omittable(T? value)
    {
        Value = value;
        IsWritten = true;
    }

    /// <summary>The value; null when the field is null or omitted.</summary>
    public T? Value { get; }

    /// <summary>False for the default instance: the field is left out.</summary>
    public bool IsWritten { get; }

    /// <summary>A written field holding <paramref name="value"/>.</summary>
    public static implicit operator Omittable<T>(T? value) => new(value);
}
