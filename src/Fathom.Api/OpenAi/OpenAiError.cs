using Fathom.OpenAi.Protocol;

namespace Fathom.Api.OpenAi;

/// <summary>The API's answers in OpenAI's error shape (<see cref="ErrorResponse"/>): from middleware, or as an endpoint's result.</summary>
internal static class OpenAiError
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code = null) =>
        WriteAsync(context, status, ErrorResponse.Create(message, type, param: null, code));

    public static Task WriteAsync(HttpContext context, int status, ErrorResponse error)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return error.WriteAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>An endpoint result that writes <paramref name="error"/> with <paramref name="status"/>.</summary>
    public static IResult Result(int status, ErrorResponse error) => new ErrorResult(status, error);

    private sealed class ErrorResult(int status, ErrorResponse error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, status, error);
    }
}
