using System.Net.Http.Json;
using System.Text.Json;
using Fathom.OpenAi.Protocol;

namespace Fathom.Api.OpenAi;

/// <summary>
/// Asks one engine replica for its <c>/v1/models</c>. A typed client of the API's <see cref="IHttpClientFactory"/>, so
/// handler pooling, service discovery and HTTP telemetry apply; a replica that fails or is slow counts as serving nothing.
/// </summary>
internal sealed class ReplicaModelsClient(HttpClient http)
{
    /// <summary>How long a replica may take to list its models before the list goes on without it.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<ModelCard>> ModelsOfAsync(Uri replica, CancellationToken cancellationToken)
    {
        try
        {
            var list = await http.GetFromJsonAsync(new Uri(replica, "/v1/models"), OpenAiJsonContext.Wire.ModelList, cancellationToken);
            return list?.Data ?? [];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return [];
        }
    }
}
