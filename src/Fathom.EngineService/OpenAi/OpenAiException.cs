using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary>An error answered as an <see cref="ErrorResponse"/> with this status (and <c>Retry-After</c> when set).</summary>
internal sealed class OpenAiException(int status, string message, string type, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    public TimeSpan? RetryAfter { get; init; }

    public static OpenAiException BadRequest(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, ErrorTypes.InvalidRequest, param, code);
}
