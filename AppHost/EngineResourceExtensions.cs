using System.Globalization;

namespace Fathom.AppHost;

/// <summary>The engine service replicas and how the API finds them.</summary>
internal static class EngineResourceExtensions
{
    public const string ReplicasConfigurationKey = "Fathom:Engine:Replicas";
    public const int DefaultReplicas = 2;
    private const string DefaultModelRelativeToShared = "models/stories260K.gguf";

    /// <summary>
    /// The GGUF file or Hugging Face model directory (config.json, safetensors, tokenizer files) the engines serve, or a model reference (<c>hf.co/ORG/REPO:QUANT</c>) that each engine takes from
    /// the model store, pulling it first when missing. Run mode defaults to stories260K from the shared data when present
    /// (<c>$FATHOM_SHARED</c>, else <c>../shared</c> beside the checkout), else to the empty value, which asks
    /// the engine for its built-in deterministic model. A deployment must name its model.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddModelParameter(this IDistributedApplicationBuilder builder, string name)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddParameter(name);
        }
        var configured = builder.Configuration[$"Parameters:{name}"];
        return builder.AddParameter(name, configured ?? FindDefaultModel(builder.AppHostDirectory) ?? "");
    }

    /// <summary>A parameter whose default the configuration (<c>Parameters:{name}</c>) may override, also in the manifest.</summary>
    public static IResourceBuilder<ParameterResource> AddParameterWithDefault(
        this IDistributedApplicationBuilder builder, string name, string defaultValue) =>
        builder.AddParameter(name, builder.Configuration[$"Parameters:{name}"] ?? defaultValue, publishValueAsDefault: true);

    /// <summary>
    /// Run mode: <c>Fathom:Engine:Replicas</c> processes <c>{name}-0 … {name}-(n-1)</c>, each with its own port, so the
    /// API routes by prefix to a chosen replica. Publish mode: one <c>{name}</c> service that the platform scales.
    /// Every replica serves <paramref name="model"/> under the id <paramref name="servedModelName"/>, which is what
    /// clients put in <c>model</c> and what <c>/v1/models</c> lists through the API.
    /// </summary>
    public static IReadOnlyList<IResourceBuilder<ProjectResource>> AddEngines(
        this IDistributedApplicationBuilder builder,
        string name,
        IResourceBuilder<ParameterResource> model,
        IResourceBuilder<ParameterResource> servedModelName,
        IResourceBuilder<ParameterResource> backend,
        KvCacheReference? kvcache)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return [builder.AddEngine(name, model, servedModelName, backend, kvcache)];
        }
        var replicas = ReadReplicas(builder.Configuration[ReplicasConfigurationKey]);
        return [.. Enumerable.Range(0, replicas).Select(i => builder.AddEngine($"{name}-{i}", model, servedModelName, backend, kvcache))];
    }

    /// <summary>
    /// Gives the API every replica as <c>services__engine__http__{i}</c> (the API's configuration contract) and
    /// makes it wait for all of them.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithEngines(
        this IResourceBuilder<ProjectResource> api, IReadOnlyList<IResourceBuilder<ProjectResource>> engines)
    {
        if (engines is [var single] && single.Resource.Name == "engine")
        {
            return api.WithReference(single).WaitFor(single);
        }
        for (var i = 0; i < engines.Count; i++)
        {
            api.WithEnvironment($"services__engine__http__{i}", engines[i].GetEndpoint("http"))
                .WaitFor(engines[i]);
        }
        return api;
    }

    public static int ReadReplicas(string? text)
    {
        if (text is null)
        {
            return DefaultReplicas;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 64
            ? n
            : throw new ArgumentException($"{ReplicasConfigurationKey} '{text}' is not a replica count from 1 to 64");
    }

    private static IResourceBuilder<ProjectResource> AddEngine(
        this IDistributedApplicationBuilder builder,
        string name,
        IResourceBuilder<ParameterResource> model,
        IResourceBuilder<ParameterResource> servedModelName,
        IResourceBuilder<ParameterResource> backend,
        KvCacheReference? kvcache) =>
        // No launch profile: its fixed port would collide between replicas; each gets an allocated one.
        builder.AddProject<Projects.Fathom_EngineService>(name, launchProfileName: null)
            .WithHttpEndpoint()
            .WithEnvironment("Fathom__Model", model)
            .WithModelStoreEnvironment()
            .WithEnvironment("Fathom__ServedModelName", servedModelName)
            .WithEnvironment("Fathom__Backend", backend)
            .WithKvCache(kvcache)
            .WithHttpHealthCheck("/health");

    private static string? FindDefaultModel(string appHostDirectory)
    {
        var shared = Environment.GetEnvironmentVariable("FATHOM_SHARED") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.GetFullPath(Path.Combine(appHostDirectory, "..", "..", "shared"));
        var path = Path.Combine(shared, DefaultModelRelativeToShared);
        return File.Exists(path) ? path : null;
    }
}
