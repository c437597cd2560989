using Fathom.Api.OpenAi;

namespace Fathom.Api.Security;

/// <summary>
/// <c>Authorization: Bearer KEY</c> on <c>/v1/*</c>: 401 in OpenAI's shape when missing or wrong. The accepted key's
/// short id goes into <see cref="HttpContext.Items"/> for the per-key limits.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeys keys)
{
    public const string KeyIdItem = "fathom.key";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/v1"))
        {
            await next(context);
            return;
        }

        if (!keys.Required)
        {
            context.Items[KeyIdItem] = "open:" + context.Connection.RemoteIpAddress;
            await next(context);
            return;
        }

        string header = context.Request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (!header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            await OpenAiError.WriteAsync(context, StatusCodes.Status401Unauthorized,
                "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.", "invalid_request_error", "invalid_api_key");
            return;
        }

        if (keys.Identify(header[Bearer.Length..].Trim()) is not { } id)
        {
            await OpenAiError.WriteAsync(context, StatusCodes.Status401Unauthorized, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
            return;
        }

        context.Items[KeyIdItem] = id;
        await next(context);
    }
}
