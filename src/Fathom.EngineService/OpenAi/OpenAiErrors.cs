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
    /// <summary>
    /// The OpenAI error for <paramref name="error"/>, or null when the engine has no answer for it (an unexpected
    /// exception, left to the server's 500). A request the engine failed on its own answers 400 when its input
    /// caused it and 500 otherwise.
    /// </summary>
    public static OpenAiException? Translate(Exception error) => error switch
    {
        OpenAiException e => e,
        InvalidSamplingParameterException e => OpenAiException.BadRequest(e.Message, e.ParamName),
        RequestRejectedException e => OpenAiException.BadRequest(e.Message, e.ParamName,
            e.ParamName is "max_tokens" or "prompt" ? "context_length_exceeded" : null),
        ToolsNotRenderedException e => OpenAiException.BadRequest(e.Message, "tools"),
        ChatTemplateException e => OpenAiException.BadRequest($"The chat template rejected the messages: {e.Message}", "messages"),
        TokenizerException e => OpenAiException.BadRequest(e.Message, "prompt"),
        SequenceFailedException { CausedByInput: true } e => OpenAiException.BadRequest(e.Message, null, "generation_failed"),
        SequenceFailedException e => new OpenAiException(StatusCodes.Status500InternalServerError, e.Message, ErrorTypes.Server, null, "generation_failed"),
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
