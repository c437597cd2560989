namespace Fathom.Api.Security;

/// <summary>
/// Whether the API may start with the keys it has: keys configured, or none and an explicit reason to serve
/// without them (<c>Fathom:Api:AllowAnonymous=true</c>, or the Development environment). Anything else refuses
/// to start, so a deployment that forgot its keys fails at once instead of serving the internet for free.
/// </summary>
internal static class ApiKeyPolicy
{
    /// <summary>The one line that explains why the API will not start, or null when it may.</summary>
    public static string? Refusal(IConfiguration configuration, IHostEnvironment environment)
    {
        var options = configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        if (ApiKeys.FindInvalid(options.KeyHashes) is { } invalid)
        {
            return $"Fathom API refused to start: {invalid}.";
        }

        return Count(options) == 0 && !options.AllowAnonymous && !environment.IsDevelopment()
            ? $"Fathom API refused to start: no API keys configured and the environment is {environment.EnvironmentName}. "
              + "Set Fathom__Api__KeyHashes__0 to the SHA-256 hex of a key (docs/security.md), "
              + "or Fathom__Api__AllowAnonymous=true to serve without keys."
            : null;
    }

    /// <summary>Logs which rule lets the API start: keys, AllowAnonymous, or Development.</summary>
    public static void LogDecision(ILogger logger, ApiOptions options, IHostEnvironment environment)
    {
        int keys = Count(options);
        if (keys > 0)
        {
            logger.LogInformation("API keys required on /v1: {Count} key hash(es) configured", keys);
        }
        else if (options.AllowAnonymous)
        {
            logger.LogWarning("No API keys: /v1 is open to anyone who can reach it because Fathom:Api:AllowAnonymous=true");
        }
        else
        {
            logger.LogWarning("No API keys: /v1 is open to anyone who can reach it because the environment is {Environment}", environment.EnvironmentName);
        }
    }

    private static int Count(ApiOptions options) => options.KeyHashes.Count(h => !string.IsNullOrWhiteSpace(h));
}
