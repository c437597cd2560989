using System.Diagnostics;
using System.Globalization;
using Fathom.Engine.Sampling;

namespace Fathom.Engine.Diagnostics;

/// <summary>
/// Traces of the engine: one span per request under the caller's span (the HTTP request), from arrival to the last
/// token, with events for admission (end of queueing) and the first token, and OpenTelemetry GenAI attributes.
/// </summary>
public static class EngineTracing
{
    /// <summary>Name of the activity source (registered by ServiceDefaults).</summary>
    public const string SourceName = "Fathom.Engine";

    /// <summary>The tag holding the client's <c>x-request-id</c>, on the API's, the engine service's and this span.</summary>
    public const string RequestIdTag = "fathom.request_id";

    internal static ActivitySource Source { get; } = new(SourceName);

    /// <summary>Starts a request's span without making it current (it ends on the engine thread).</summary>
    internal static Activity? StartRequest(string requestId, int promptTokens, SamplingParams sampling)
    {
        var previous = Activity.Current;
        var activity = Source.StartActivity("generate", ActivityKind.Internal);
        Activity.Current = previous;
        if (activity is null)
        {
            return null;
        }

        activity.SetTag("gen_ai.operation.name", "generate");
        activity.SetTag("gen_ai.request.temperature", sampling.Temperature);
        activity.SetTag("gen_ai.request.top_p", sampling.TopP);
        if (sampling.MaxTokens is { } max)
        {
            activity.SetTag("gen_ai.request.max_tokens", max);
        }

        if (sampling.Seed is { } seed)
        {
            activity.SetTag("gen_ai.request.seed", seed);
        }

        activity.SetTag("gen_ai.request.choice.count", sampling.N);
        activity.SetTag("gen_ai.usage.input_tokens", promptTokens);
        activity.SetTag("fathom.request.id", requestId);
        // The caller's x-request-id, which the engine service tags on the HTTP server span (the parent).
        if (previous?.GetTagItem(RequestIdTag) is string callerId)
        {
            activity.SetTag(RequestIdTag, callerId);
        }

        return activity;
    }

    internal static void Scheduled(Activity? activity, TimeSpan queued) =>
        activity?.AddEvent(new ActivityEvent("scheduled", tags: new ActivityTagsCollection { ["fathom.queue_time_s"] = queued.TotalSeconds }));

    internal static void FirstToken(Activity? activity, TimeSpan sinceArrival) =>
        activity?.AddEvent(new ActivityEvent("first_token", tags: new ActivityTagsCollection { ["fathom.time_to_first_token_s"] = sinceArrival.TotalSeconds }));

    internal static void Finish(Activity? activity, int completionTokens, int cachedTokens, string? errorType)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("gen_ai.usage.output_tokens", completionTokens);
        activity.SetTag("fathom.usage.cached_tokens", cachedTokens);
        if (errorType is not null)
        {
            activity.SetTag("error.type", errorType);
            activity.SetStatus(ActivityStatusCode.Error, string.Create(CultureInfo.InvariantCulture, $"request {errorType}"));
        }

        activity.Stop();
    }
}
