using System.Text;
using System.Text.Json;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// The frame of both generation endpoints: read and check the body, submit to the engine, answer errors in
/// OpenAI's shape (never a 500 for bad input), and stop quietly when the client goes away (which aborts the request).
/// </summary>
internal static class GenerationCall
{
    public delegate Task Handler(HttpContext context, ServedModel model, EngineHost engine, JsonElement body);

    public static async Task HandleAsync(HttpContext context, ModelHost host, Handler handler)
    {
        try
        {
            if (host.Draining)
            {
                throw new OpenAiException(StatusCodes.Status503ServiceUnavailable,
                    "This engine replica is shutting down; retry the request (on another replica).",
                    ErrorTypes.ServiceUnavailable, null, "draining")
                {
                    RetryAfter = TimeSpan.FromSeconds(1),
                };
            }

            if (host.Engine is not { } engine || host.Model is not { } model)
            {
                throw new OpenAiException(StatusCodes.Status503ServiceUnavailable,
                    host.LoadError is { } error ? $"The model failed to load: {error}" : "The model is still loading.",
                    ErrorTypes.ServiceUnavailable, null, "model_not_ready")
                {
                    RetryAfter = TimeSpan.FromSeconds(5),
                };
            }

            using var document = await RequestJson.ReadAsync(context.Request, context.RequestAborted);
            await handler(context, model, engine, document.RootElement);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the engine request was aborted through the token.
        }
        catch (Exception e) when (OpenAiErrors.Translate(e) is { } error && !context.Response.HasStarted)
        {
            await OpenAiErrors.WriteAsync(context, error);
        }
    }

    /// <summary>404 unless <paramref name="requested"/> names the served model (absent means the served one, as vLLM).</summary>
    public static void CheckModel(string? requested, ServedModel model)
    {
        if (!string.IsNullOrEmpty(requested) && requested != model.Name)
        {
            throw new OpenAiException(StatusCodes.Status404NotFound, $"The model '{requested}' does not exist; this engine serves '{model.Name}'.",
                ErrorTypes.InvalidRequest, "model", "model_not_found");
        }
    }

    /// <summary>Reads every output of a non-streaming request, per completion.</summary>
    public static async Task<Choice[]> CollectAsync(GenerationOutputs outputs, int n, CancellationToken cancellationToken)
    {
        var choices = Enumerable.Range(0, n).Select(_ => new Choice()).ToArray();
        await foreach (var output in outputs.Outputs.ReadAllAsync(cancellationToken))
        {
            var choice = choices[output.Index];
            choice.Text.Append(output.Text);
            choice.Tokens.Add(output.Token);
            choice.FinishReason = output.FinishReason ?? choice.FinishReason;
        }

        return choices;
    }

    public static long Created() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public sealed class Choice
    {
        public StringBuilder Text { get; } = new();

        public List<SampledToken> Tokens { get; } = [];

        public FinishReason? FinishReason { get; set; }
    }
}
