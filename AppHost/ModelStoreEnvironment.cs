namespace Fathom.AppHost;

/// <summary>
/// Run mode: an engine whose <c>model</c> parameter is a reference (<c>hf.co/ORG/REPO:QUANT</c>) pulls it itself,
/// so it gets the AppHost's hub settings and store folder (<c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HOME</c>,
/// <c>FATHOM_MODELS</c>) when they are set. Publish mode passes none: a token must not land in a manifest.
/// </summary>
internal static class ModelStoreEnvironment
{
    private static readonly string[] Variables = ["HF_ENDPOINT", "HF_TOKEN", "HF_HOME", "FATHOM_MODELS"];

    public static IResourceBuilder<ProjectResource> WithModelStoreEnvironment(this IResourceBuilder<ProjectResource> engine)
    {
        if (engine.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return engine;
        }

        foreach (string name in Variables)
        {
            if (engine.ApplicationBuilder.Configuration[name] is { Length: > 0 } value)
            {
                engine.WithEnvironment(name, value);
            }
        }

        return engine;
    }
}
