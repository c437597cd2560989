using System.Security.Cryptography;
using System.Text;

namespace Fathom.AppHost;

/// <summary>
/// The API key. The API only ever receives SHA-256 hashes (<c>Fathom__Api__KeyHashes__0</c>); clients receive the key.
/// Run mode: <c>{name}</c> is a secret parameter, generated each run unless <c>Parameters:{name}</c> sets one, shown
/// in the dashboard and on the console. Publish mode: the deployment holds no key at all, only the required secret
/// parameter <c>{name}-sha256</c> (a manifest cannot hash), and no client in the app model needs the key.
/// </summary>
internal static class ApiKeyExtensions
{
    public const string HashEnvironmentVariable = "Fathom__Api__KeyHashes__0";
    public const string KeyEnvironmentVariable = "Fathom__ApiKey";

    /// <summary>Adds the key parameter (run mode) or its hash parameter (publish mode); see the class remarks.</summary>
    public static IResourceBuilder<ParameterResource> AddApiKey(this IDistributedApplicationBuilder builder, string name)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddParameter($"{name}-sha256", secret: true)
                .WithDescription("SHA-256 hex of the API key clients send (docs/deployment.md: generating and rotating keys)");
        }

        var key = builder.AddParameter(name, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true)
            .WithDescription("The API key for this run: send it as 'Authorization: Bearer KEY'");
        builder.Eventing.Subscribe<BeforeStartEvent>(async (_, ct) =>
            Console.WriteLine($"Fathom API key for this run: {await key.Resource.GetValueAsync(ct)} (set Parameters:{name} to keep one)"));
        return key;
    }

    /// <summary>Gives the API the hash of <paramref name="key"/> (run mode) or the hash parameter itself (publish mode).</summary>
    public static IResourceBuilder<ProjectResource> WithApiKeyHash(this IResourceBuilder<ProjectResource> api, IResourceBuilder<ParameterResource> key)
    {
        if (api.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return api.WithEnvironment(HashEnvironmentVariable, key);
        }

        return api.WithEnvironment(async context =>
            context.EnvironmentVariables[HashEnvironmentVariable] = Sha256Hex(await key.Resource.GetValueAsync(context.CancellationToken) ?? ""));
    }

    /// <summary>Gives a client of the API the key as <c>Fathom__ApiKey</c>.</summary>
    public static IResourceBuilder<ProjectResource> WithApiKey(this IResourceBuilder<ProjectResource> client, IResourceBuilder<ParameterResource> key) =>
        client.WithEnvironment(KeyEnvironmentVariable, key);

    /// <summary>The form <c>Fathom:Api:KeyHashes</c> holds (the API's <c>ApiKeys.Hash</c>; the AppHost does not reference the API's code).</summary>
    public static string Sha256Hex(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
