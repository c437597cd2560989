using Microsoft.Extensions.Options;

namespace Fathom.Api.Security;

/// <summary>
/// Keeps <c>/metrics</c> and <c>/health</c> (what the service is doing, and a way to make it run every check) off
/// the public listener. With <see cref="ApiOptions.ManagementPort"/> set they answer only on that local port, which
/// answers nothing else but the probes; without it they answer in Development only. Requests are told apart by
/// the port the connection arrived on, never by the Host header a client writes.
/// </summary>
internal sealed class ManagementPortMiddleware(RequestDelegate next, IOptions<ApiOptions> options, IHostEnvironment environment)
{
    private readonly int _port = options.Value.ManagementPort;
    private readonly bool _detailsEverywhere = options.Value.ManagementPort == 0 && environment.IsDevelopment();

    public Task InvokeAsync(HttpContext context)
    {
        var kind = context.GetEndpoint()?.Metadata.GetMetadata<DefaultEndpointMetadata>();
        bool onManagementPort = _port != 0 && context.Connection.LocalPort == _port;
        bool allowed = kind switch
        {
            { IsProbe: true } => true,
            { IsProbe: false } => onManagementPort || _detailsEverywhere,
            null => !onManagementPort,
        };
        if (allowed)
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    /// <summary>Logs where <c>/metrics</c> and <c>/health</c> are served.</summary>
    public static void LogDecision(ILogger logger, ApiOptions options, IHostEnvironment environment)
    {
        if (options.ManagementPort != 0)
        {
            logger.LogInformation("/metrics and /health are served on the management port {Port} only", options.ManagementPort);
        }
        else if (environment.IsDevelopment())
        {
            logger.LogInformation("/metrics and /health are served on every listener (Development, no Fathom:Api:ManagementPort)");
        }
        else
        {
            logger.LogWarning("/metrics and /health are not served: set Fathom:Api:ManagementPort to a port the server listens on");
        }
    }
}
