using System.Diagnostics;

namespace Fathom.EngineService;

/// <summary>
/// The caller's <c>x-request-id</c> (the API gateway always sends one) on the request's server span as
/// <c>fathom.request_id</c>, the tag the API puts on its span; the engine's <c>generate</c> span copies it from there,
/// so one id finds the request in the logs and traces of every hop. Not echoed: the gateway echoes it, and YARP
/// would copy a second value onto its response.
/// </summary>
internal static class RequestIdTagging
{
    public const string Header = "x-request-id";

    public static WebApplication UseRequestIdTagging(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            string id = context.Request.Headers[Header].ToString();
            if (!string.IsNullOrWhiteSpace(id) && id.Length <= 128)
            {
                Activity.Current?.SetTag("fathom.request_id", id);
            }

            return next(context);
        });
        return app;
    }
}
