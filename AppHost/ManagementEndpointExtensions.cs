namespace Fathom.AppHost;

/// <summary>
/// The API's second, internal endpoint <c>management</c>: the only one that serves <c>/metrics</c> and <c>/health</c>
/// (the API's <c>Fathom:Api:ManagementPort</c>), never external. The API's health check uses it.
/// </summary>
internal static class ManagementEndpointExtensions
{
    public const string EndpointName = "management";

    /// <summary>The management port in a deployment (the public one is 8080).</summary>
    public const int PublishedTargetPort = 8081;

    public static IResourceBuilder<ProjectResource> WithManagementEndpoint(this IResourceBuilder<ProjectResource> api)
    {
        // Run mode: the port is allocated; Aspire puts both endpoints in ASPNETCORE_URLS, and the API learns which is which.
        int? targetPort = api.ApplicationBuilder.ExecutionContext.IsPublishMode ? PublishedTargetPort : null;
        api.WithHttpEndpoint(name: EndpointName, targetPort: targetPort);
        var endpoint = api.GetEndpoint(EndpointName);
        return api.WithEnvironment("Fathom__Api__ManagementPort", endpoint.Property(EndpointProperty.TargetPort))
            .WithHttpHealthCheck("/health", endpointName: EndpointName);
    }
}
