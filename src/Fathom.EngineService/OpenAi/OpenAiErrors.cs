using System.Globalization;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Templates;
using Fathom.Engine.Tokenization;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary>Maps engine exceptions to OpenAI errors and writes them.</summary>
internal static class OpenAiErrors
{
    /// <summary>The OpenAI error for <paramref name="error"/>, or null when it is not the client's fault.</summary>
    public static OpenAiException? Translate(Exception error) => error switch
    {
        OpenAiException e => e,
        InvalidSamplingParameterException e => OpenAiException.BadRequest(e.Message, e.ParamName),
        RequestRejectedException e => OpenAiException.BadRequest(e.Message, e.ParamName,
            e.ParamName is "max_tokens" or "prompt" ? "context_length_exceeded" : null),
        ChatTemplateException e => OpenAiException.BadRequest($"The chat template rejected the messages: {e.Message}", "messages"),
        TokenizerException e => OpenAiException.BadRequest(e.Message, "prompt"),
        EngineOverloadedException e => new OpenAiException(StatusCodes.Status429TooManyRequests, e.Message, ErrorTypes.RateLimitExceeded, null, "queue_full")
        {
            RetryAfter = e.RetryAfter,
        },
        _ => null,
    };

    public static async Task WriteAsync(HttpContext context, OpenAiException error)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        if (error.RetryAfter is { } retry)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json";
        await ErrorResponse.Create(error.Message, error.Type, error.Param, error.Code).WriteAsync(response.Body);
    }
}
