using System.Text.Json;

namespace Fathom.EngineService.OpenAi;

/// <summary><c>GET /v1/models</c>: the served model, once loaded.</summary>
internal static class ModelsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ModelHost host)
    {
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body, OpenAiJson.WriterOptions);
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        if (host.Model is { } model)
        {
            json.WriteStartObject();
            json.WriteString("id", model.Name);
            json.WriteString("object", "model");
            json.WriteNumber("created", GenerationCall.Created());
            json.WriteString("owned_by", "fathom");
            json.WriteNumber("max_model_len", model.MaxModelLength);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
