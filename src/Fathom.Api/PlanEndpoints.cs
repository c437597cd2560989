using System.Globalization;
using System.Text.Json;
using Fathom.Api.OpenAi;
using Fathom.OpenAi.Protocol;
using Fathom.Planner;

namespace Fathom.Api;

/// <summary>
/// <c>GET /v1/plan?model=...&amp;gpu=...</c> (query parameters named like the JSON fields) and <c>POST /v1/plan</c>
/// (a snake_case <see cref="PlanRequest"/> body): the planner's JSON. Bad input answers 400 in OpenAI's error shape.
/// </summary>
internal static class PlanEndpoints
{
    private static readonly HardwarePlanner Planner = new();

    public static IEndpointRouteBuilder MapPlanEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/plan", (HttpRequest http) => Answer(() => FromQuery(http.Query)));
        app.MapPost("/v1/plan", async (HttpRequest http, CancellationToken cancellationToken) =>
        {
            PlanRequest? request;
            try
            {
                request = await JsonSerializer.DeserializeAsync<PlanRequest>(http.Body, PlanJson.Options, cancellationToken);
            }
            catch (JsonException e)
            {
                return Error($"the body is not a valid plan request: {e.Message}");
            }

            return request is null ? Error("the body is empty") : Answer(() => request);
        });
        return app;
    }

    private static IResult Answer(Func<PlanRequest> request)
    {
        try
        {
            return Results.Json(Planner.Plan(request()), PlanJson.Options);
        }
        catch (PlannerInputException e)
        {
            return Error(e.Message);
        }
    }

    private static IResult Error(string message) =>
        OpenAiError.Result(StatusCodes.Status400BadRequest, ErrorResponse.Create(message, ErrorTypes.InvalidRequest));

    private static PlanRequest FromQuery(IQueryCollection query)
    {
        string? Text(string key) => query.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.ToString() : null;
        T? Number<T>(string key) where T : struct, IParsable<T> => Text(key) is not { } s ? null
            : T.TryParse(s, CultureInfo.InvariantCulture, out var n) ? n : throw new PlannerInputException($"query parameter '{key}' is not a number: '{s}'");

        var defaults = new PlanRequest { Model = "-", Gpu = "-" };
        return new PlanRequest
        {
            Model = Text("model") ?? throw new PlannerInputException("query parameter 'model' is required"),
            Gpu = Text("gpu") ?? throw new PlannerInputException("query parameter 'gpu' is required"),
            Weights = Text("weights"),
            KvCache = Text("kv_cache") ?? defaults.KvCache,
            GroupSize = Number<int>("group_size") ?? defaults.GroupSize,
            Context = Number<int>("context") ?? defaults.Context,
            Concurrency = Number<int>("concurrency") ?? defaults.Concurrency,
            PromptTokens = Number<int>("prompt_tokens") ?? defaults.PromptTokens,
            OutputTokens = Number<int>("output_tokens") ?? defaults.OutputTokens,
            TargetTtftS = Number<double>("target_ttft_s"),
            TargetTokSPerUser = Number<double>("target_tok_s_per_user"),
            Tp = Number<int>("tp"),
            Pp = Number<int>("pp"),
        };
    }
}
