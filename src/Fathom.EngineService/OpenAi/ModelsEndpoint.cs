using System.Text.Json;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary><c>GET /v1/models</c>: the served model, once loaded.</summary>
internal static class ModelsEndpoint
{
    public static Task HandleAsync(HttpContext context, ModelHost host)
    {
        var list = new ModelList
        {
            Data = host.Model is { } model
                ? [new ModelCard { Id = model.Name, Created = GenerationCall.Created(), OwnedBy = "fathom", MaxModelLength = model.MaxModelLength }]
                : [],
        };
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, list, OpenAiJsonContext.Wire.ModelList, context.RequestAborted);
    }
}
