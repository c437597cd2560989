using System.Security.Cryptography;
using System.Text;
using Fathom.EngineService.OpenAi;
using Fathom.OpenAi.Protocol;
using Microsoft.Extensions.Options;

namespace Fathom.EngineService;

/// <summary>
/// Engines only behind the API: with <see cref="EngineServiceOptions.GatewayToken"/> set, a request must carry
/// <c>Authorization: Bearer TOKEN</c> or gets a 401 in OpenAI's shape. The orchestrator's probes and <c>/metrics</c>
/// (endpoints tagged <see cref="DefaultEndpointMetadata"/>) stay open; every other path, present or future, is
/// closed. Both sides are hashed first, so the comparison takes the same time whatever the presented length.
/// </summary>
internal static class GatewayTokenGuard
{
    public static WebApplication UseGatewayToken(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<EngineServiceOptions>>().Value;
        if (options.GatewayToken is not { Length: > 0 } token)
        {
            app.Logger.LogWarning("No gateway token (Fathom:GatewayToken): anyone who can reach this engine can use it");
            return app;
        }

        byte[] current = Hash(token);
        byte[]? previous = options.PreviousGatewayToken is { Length: > 0 } old ? Hash(old) : null;
        app.Logger.LogInformation("Gateway token required on every request but the probes and /metrics{Previous}",
            previous is null ? "" : " (the previous token is accepted too, while it is rotated)");
        app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<DefaultEndpointMetadata>() is not null || Accepts(Hash(Presented(context.Request)), current, previous))
            {
                return next(context);
            }

            return OpenAiErrors.WriteAsync(context, new OpenAiException(StatusCodes.Status401Unauthorized,
                "This engine serves only its API gateway: send the gateway token as 'Authorization: Bearer TOKEN'.",
                ErrorTypes.InvalidRequest, null, "invalid_gateway_token"));
        });
        return app;
    }

    private static string Presented(HttpRequest request)
    {
        const string Bearer = "Bearer ";
        string header = request.Headers.Authorization.ToString();
        return header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? header[Bearer.Length..].Trim() : "";
    }

    private static bool Accepts(byte[] presented, byte[] current, byte[]? previous)
    {
        // Both compared, whichever matches, so the time says nothing about which token was sent.
        bool isCurrent = CryptographicOperations.FixedTimeEquals(presented, current);
        bool isPrevious = previous is not null && CryptographicOperations.FixedTimeEquals(presented, previous);
        return isCurrent | isPrevious;
    }

    private static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
