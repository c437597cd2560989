namespace Fathom.Api.Gateway;

/// <summary>
/// <c>x-request-id</c>: the client's when it sent one, else a new one; forwarded to the replica (YARP copies request
/// headers), echoed on the response, and tagged on the request's trace span so logs and traces meet.
/// </summary>
internal sealed class RequestIdMiddleware(RequestDelegate next)
{
    public const string Header = "x-request-id";

    public Task InvokeAsync(HttpContext context)
    {
        string id = context.Request.Headers[Header].ToString();
        if (string.IsNullOrWhiteSpace(id) || id.Length > 128)
        {
            id = Guid.NewGuid().ToString("N");
            context.Request.Headers[Header] = id;
        }

        context.Response.Headers[Header] = id;
        System.Diagnostics.Activity.Current?.SetTag("fathom.request_id", id);
        return next(context);
    }
}
