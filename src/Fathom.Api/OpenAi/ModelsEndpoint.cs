using Fathom.Api.Gateway;
using Fathom.OpenAi.Protocol;
using Yarp.ReverseProxy;

namespace Fathom.Api.OpenAi;

/// <summary>
/// <c>GET /v1/models</c>: the union of the models the healthy replicas serve (each model once, by id), so several
/// models on different replicas show up together.
/// </summary>
internal static class ModelsEndpoint
{
    public static IEndpointRouteBuilder MapModelsEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", async (HttpContext context, IProxyStateLookup proxy, ReplicaModelsClient client, ModelContextLengths contexts) =>
        {
            var replicas = proxy.TryGetCluster(EngineCluster.ClusterId, out var cluster)
                ? cluster.DestinationsState.AvailableDestinations.Select(d => new Uri(d.Model.Config.Address)).ToList()
                : [];
            var answers = await Task.WhenAll(replicas.Select(r => client.ModelsOfAsync(r, context.RequestAborted)));
            var models = answers.SelectMany(a => a).DistinctBy(m => m.Id, StringComparer.Ordinal).ToList();
            contexts.Observe(models);
            return TypedResults.Json(new ModelList { Data = models }, OpenAiJsonContext.Wire.ModelList);
        });
        return app;
    }
}
