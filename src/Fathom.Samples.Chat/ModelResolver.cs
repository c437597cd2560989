using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Connector;

namespace Fathom.Samples.Chat;

/// <summary>Picks the model to chat with: the configured one, else the first the server lists at <c>/v1/models</c>.</summary>
internal static class ModelResolver
{
    public const string Fallback = "default";

    public static async Task<string> ResolveAsync(
        IHttpClientFactory factory, Uri endpoint, string? apiKey, string? configured, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        try
        {
            using var http = factory.CreateClient(FathomServiceCollectionExtensions.HttpClientName);
            var root = endpoint.ToString().TrimEnd('/');
            var models = root.EndsWith("/v1", StringComparison.Ordinal) ? root + "/models" : root + "/v1/models";
            using var request = new HttpRequestMessage(HttpMethod.Get, models);
            if (!string.IsNullOrEmpty(apiKey))
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
            }

            using var response = await http.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
            using var list = await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken);
            if (list?.RootElement.TryGetProperty("data", out var data) == true
                && data.ValueKind == JsonValueKind.Array && data.GetArrayLength() > 0
                && data[0].TryGetProperty("id", out var id) && id.GetString() is { Length: > 0 } name)
            {
                return name;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or NotSupportedException)
        {
            // A server without /v1/models still chats; let it pick its default model.
        }

        return Fallback;
    }
}
