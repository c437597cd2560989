using Microsoft.SemanticKernel;

namespace Fathom.Connector;

/// <summary>Adds Fathom to a Semantic Kernel <see cref="IKernelBuilder"/> (see <see cref="FathomServiceCollectionExtensions"/>).</summary>
public static class FathomKernelBuilderExtensions
{
    /// <summary>Adds Fathom chat completion for a service at <paramref name="endpoint"/>.</summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="modelId">The model name sent to the server.</param>
    /// <param name="endpoint">The service's base address, with or without <c>/v1</c> (e.g. <c>https+http://api</c> under Aspire).</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when given.</param>
    /// <param name="serviceId">Key of the registered services, or <see langword="null"/> for unkeyed ones.</param>
    /// <returns>The kernel builder.</returns>
    public static IKernelBuilder AddFathomChatCompletion(
        this IKernelBuilder builder, string modelId, Uri endpoint, string? apiKey = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddFathomChatCompletion(modelId, endpoint, apiKey, serviceId);
        return builder;
    }

    /// <summary>Adds Fathom chat completion sending through the configured <c>IHttpClientFactory</c> client.</summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="modelId">The model name sent to the server.</param>
    /// <param name="endpoint">The service's base address, with or without <c>/v1</c>.</param>
    /// <param name="configureHttpClient">Adds handlers or settings to the named HTTP client.</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when given.</param>
    /// <param name="serviceId">Key of the registered services, or <see langword="null"/> for unkeyed ones.</param>
    /// <returns>The kernel builder.</returns>
    public static IKernelBuilder AddFathomChatCompletion(
        this IKernelBuilder builder,
        string modelId,
        Uri endpoint,
        Action<Microsoft.Extensions.DependencyInjection.IHttpClientBuilder> configureHttpClient,
        string? apiKey = null,
        string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddFathomChatCompletion(modelId, endpoint, configureHttpClient, apiKey, serviceId);
        return builder;
    }

    /// <summary>Adds Fathom chat completion sending through <paramref name="httpClient"/>.</summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="modelId">The model name sent to the server.</param>
    /// <param name="httpClient">The client to send with; not disposed by the connector.</param>
    /// <param name="endpoint">The service's base address; defaults to <see cref="HttpClient.BaseAddress"/>.</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when given.</param>
    /// <param name="serviceId">Key of the registered services, or <see langword="null"/> for unkeyed ones.</param>
    /// <returns>The kernel builder.</returns>
    public static IKernelBuilder AddFathomChatCompletion(
        this IKernelBuilder builder,
        string modelId,
        HttpClient httpClient,
        Uri? endpoint = null,
        string? apiKey = null,
        string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddFathomChatCompletion(modelId, httpClient, endpoint, apiKey, serviceId);
        return builder;
    }
}
