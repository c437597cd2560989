using Microsoft.Extensions.Configuration;

namespace Fathom.Samples.Chat;

/// <summary>Where the sample sends its requests and with which model, read from configuration.</summary>
/// <remarks>
/// Under the AppHost, Aspire injects <c>services__api__http__0</c>; the endpoint is then the service-discovery name
/// <c>https+http://api</c>, resolved per request. Standalone, <c>--endpoint</c> (or <c>Fathom:Endpoint</c>) names a
/// server directly; without either, the API's default local address is used. The API key comes from
/// <c>--api-key</c> or <c>Fathom:ApiKey</c> (<c>Fathom__ApiKey</c>, which the AppHost sets).
/// </remarks>
internal sealed record ChatSampleOptions(
    Uri Endpoint, string? ApiKey, string? Model, string? Prompt, string? SystemPrompt, float? Temperature, int? MaxTokens)
{
    public const string ServiceDiscoveryEndpoint = "https+http://api";
    public const string LocalApiEndpoint = "http://127.0.0.1:5080";

    public static ChatSampleOptions From(IConfiguration configuration)
    {
        var explicitEndpoint = configuration["endpoint"] ?? configuration["Fathom:Endpoint"];
        var discovered = configuration.GetSection("services:api").Exists();
        var endpoint = explicitEndpoint ?? (discovered ? ServiceDiscoveryEndpoint : LocalApiEndpoint);
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"endpoint '{endpoint}' is not an absolute URI");
        }

        return new ChatSampleOptions(
            uri,
            configuration["api-key"] ?? configuration["Fathom:ApiKey"],
            configuration["model"] ?? configuration["Fathom:Model"],
            configuration["prompt"],
            configuration["system"],
            ParseFloat(configuration["temperature"]),
            ParseInt(configuration["max-tokens"]));
    }

    private static float? ParseFloat(string? text) =>
        text is null ? null
        : float.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value
        : throw new ArgumentException($"--temperature '{text}' is not a number");

    private static int? ParseInt(string? text) =>
        text is null ? null
        : int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0 ? value
        : throw new ArgumentException($"--max-tokens '{text}' is not a positive integer");
}
