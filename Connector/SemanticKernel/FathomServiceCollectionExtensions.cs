using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.TextGeneration;

namespace Fathom.Connector;

/// <summary>
/// Registers Fathom with a service collection: an <see cref="IChatClient"/> (with Semantic Kernel's function
/// invocation, so <c>FunctionChoiceBehavior.Auto()</c> works, and OpenTelemetry under
/// <see cref="FathomChatClient.TelemetrySourceName"/>), an <see cref="IChatCompletionService"/> over it, and an
/// <see cref="ITextGenerationService"/>; all keyed by <c>serviceId</c> when one is given.
/// </summary>
public static class FathomServiceCollectionExtensions
{
    /// <summary>
    /// Name of the <c>IHttpClientFactory</c> client used when no <see cref="HttpClient"/> is given (with a
    /// <c>serviceId</c>: this name, a dot and the id). Configure it with <c>services.AddHttpClient(name)</c>;
    /// handlers added by <c>ConfigureHttpClientDefaults</c> (Aspire's service discovery, resilience) apply too.
    /// </summary>
    public const string HttpClientName = "Fathom.Connector";

    /// <summary>Adds Fathom chat completion for a service at <paramref name="endpoint"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="modelId">The model name sent to the server.</param>
    /// <param name="endpoint">The service's base address, with or without <c>/v1</c> (e.g. <c>https+http://api</c> under Aspire).</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when given.</param>
    /// <param name="serviceId">Key of the registered services, or <see langword="null"/> for unkeyed ones.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddFathomChatCompletion(
        this IServiceCollection services, string modelId, Uri endpoint, string? apiKey = null, string? serviceId = null)
    {
        return services.AddFathomChatCompletion(modelId, endpoint, static _ => { }, apiKey, serviceId);
    }

    /// <summary>
    /// Adds Fathom chat completion for a service at <paramref name="endpoint"/>, sending through the
    /// <c>IHttpClientFactory</c> client <see cref="HttpClientNameFor"/>(<paramref name="serviceId"/>), configured by
    /// <paramref name="configureHttpClient"/> (e.g. <c>http =&gt; http.AddStandardResilienceHandler()</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="modelId">The model name sent to the server.</param>
    /// <param name="endpoint">The service's base address, with or without <c>/v1</c>.</param>
    /// <param name="configureHttpClient">Adds handlers or settings to the named HTTP client.</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when given.</param>
    /// <param name="serviceId">Key of the registered services, or <see langword="null"/> for unkeyed ones.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddFathomChatCompletion(
        this IServiceCollection services,
        string modelId,
        Uri endpoint,
        Action<IHttpClientBuilder> configureHttpClient,
        string? apiKey = null,
        string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(configureHttpClient);
        _ = FathomEndpoint.ApiRoot(endpoint); // fail at registration, not at the first request

        var name = HttpClientNameFor(serviceId);
        configureHttpClient(services.AddHttpClient(name));
        return services.AddFathomChatClientCore(serviceId, provider =>
            new FathomChatClient(provider.GetRequiredService<IHttpClientFactory>().CreateClient(name), modelId, endpoint, apiKey));
    }

    /// <summary>Adds Fathom chat completion sending through <paramref name="httpClient"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="modelId">The model name sent to the server.</param>
    /// <param name="httpClient">The client to send with; not disposed by the connector.</param>
    /// <param name="endpoint">The service's base address; defaults to <see cref="HttpClient.BaseAddress"/>.</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when given.</param>
    /// <param name="serviceId">Key of the registered services, or <see langword="null"/> for unkeyed ones.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddFathomChatCompletion(
        this IServiceCollection services,
        string modelId,
        HttpClient httpClient,
        Uri? endpoint = null,
        string? apiKey = null,
        string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentNullException.ThrowIfNull(httpClient);
        if (endpoint is null && httpClient.BaseAddress is null)
        {
            throw new ArgumentException("Give an endpoint or an HttpClient whose BaseAddress is set.", nameof(endpoint));
        }

        return services.AddFathomChatClientCore(serviceId, _ => new FathomChatClient(httpClient, modelId, endpoint, apiKey));
    }

    /// <summary>The <c>IHttpClientFactory</c> client name used for <paramref name="serviceId"/>.</summary>
    /// <param name="serviceId">The service id given at registration, or <see langword="null"/>.</param>
    /// <returns><see cref="HttpClientName"/>, or <c>Fathom.Connector.{serviceId}</c>.</returns>
    public static string HttpClientNameFor(string? serviceId) =>
        serviceId is null ? HttpClientName : $"{HttpClientName}.{serviceId}";

    /// <summary>
    /// Registers the chat client made by <paramref name="createClient"/> and the Semantic Kernel services over it.
    /// Every transport (HTTP, or the in-process engine of Fathom.Connector.Embedded) goes
    /// through here, so Semantic Kernel sees the same behaviour whichever is used.
    /// </summary>
    internal static IServiceCollection AddFathomChatClientCore(
        this IServiceCollection services, string? serviceId, Func<IServiceProvider, IChatClient> createClient)
    {
        services.AddKeyedSingleton<IChatClient>(serviceId, (provider, _) =>
        {
            var loggerFactory = provider.GetService<ILoggerFactory>();
            var builder = createClient(provider).AsBuilder();
            if (loggerFactory is not null)
            {
                builder.UseLogging(loggerFactory);
            }

            // Telemetry sits inside function invocation, so each request to the server is its own span.
            return builder
                .UseKernelFunctionInvocation(loggerFactory)
                .UseOpenTelemetry(loggerFactory, FathomChatClient.TelemetrySourceName)
                .Build(provider);
        });
        services.AddKeyedSingleton<IChatCompletionService>(serviceId, (provider, _) =>
            provider.GetRequiredKeyedService<IChatClient>(serviceId).AsChatCompletionService(provider));
        services.AddKeyedSingleton<ITextGenerationService>(serviceId, (provider, _) =>
            new FathomTextGenerationService(provider.GetRequiredKeyedService<IChatClient>(serviceId)));
        return services;
    }
}
