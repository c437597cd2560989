namespace Fathom.AppHost;

/// <summary>
/// The secret the API sends to the engines and the engines require (<c>Fathom__GatewayToken</c> on both), so an
/// engine serves no one but the API. Generated in both modes: in run mode per run, in publish mode by the deploying
/// tool (the manifest asks for a generated value); nobody needs to know it.
/// </summary>
internal static class GatewayTokenExtensions
{
    public const string EnvironmentVariable = "Fathom__GatewayToken";

    public static IResourceBuilder<ParameterResource> AddGatewayToken(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true)
            .WithDescription("Shared by the API and the engines; engines refuse requests without it");

    /// <summary>Gives the token to the API or to one engine.</summary>
    public static IResourceBuilder<ProjectResource> WithGatewayToken(this IResourceBuilder<ProjectResource> service, IResourceBuilder<ParameterResource> token) =>
        service.WithEnvironment(EnvironmentVariable, token);

    /// <summary>Gives the token to every engine replica.</summary>
    public static IReadOnlyList<IResourceBuilder<ProjectResource>> WithGatewayToken(
        this IReadOnlyList<IResourceBuilder<ProjectResource>> engines, IResourceBuilder<ParameterResource> token)
    {
        foreach (var engine in engines)
        {
            engine.WithGatewayToken(token);
        }

        return engines;
    }
}
