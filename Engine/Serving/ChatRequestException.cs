using Fathom.Engine.Sampling;

namespace Fathom.Engine.Serving;

/// <summary>Makes the typed error of a chat parameter that cannot be honoured (the service answers it 400, naming the parameter).</summary>
internal static class ChatRequestException
{
    /// <summary>An <see cref="InvalidSamplingParameterException"/> naming <paramref name="param"/> by its API name.</summary>
    public static InvalidSamplingParameterException Invalid(string message, string param) => new(message, param);
}
