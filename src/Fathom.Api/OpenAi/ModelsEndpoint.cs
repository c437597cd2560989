using System.Text.Json;
using System.Text.Json.Nodes;
using Fathom.Api.Gateway;
using Yarp.ReverseProxy;

namespace Fathom.Api.OpenAi;

/// <summary>
/// <c>GET /v1/models</c>: the union of the models the healthy replicas serve (each model once, by id), so several
/// models on different replicas show up together.
/// </summary>
internal static class ModelsEndpoint
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public static IEndpointRouteBuilder MapModelsEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", async (HttpContext context, IProxyStateLookup proxy) =>
        {
            var replicas = proxy.TryGetCluster(EngineCluster.ClusterId, out var cluster)
                ? cluster.DestinationsState.AvailableDestinations.Select(d => d.Model.Config.Address).ToList()
                : [];
            var answers = await Task.WhenAll(replicas.Select(r => ModelsOfAsync(r, context.RequestAborted)));
            var data = new JsonArray();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var model in answers.SelectMany(a => a))
            {
                if (model["id"]?.GetValue<string>() is { } id && seen.Add(id))
                {
                    data.Add(model);
                }
            }

            return Results.Json(new JsonObject { ["object"] = "list", ["data"] = data });
        });
        return app;
    }

    private static async Task<IEnumerable<JsonNode>> ModelsOfAsync(string replica, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.GetAsync(new Uri(new Uri(replica), "/v1/models"), cancellationToken);
            var list = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return list?["data"] is JsonArray data ? [.. data.Where(m => m is not null).Select(m => m!.DeepClone())] : [];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return [];
        }
    }
}
