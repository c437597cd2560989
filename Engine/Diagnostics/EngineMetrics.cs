using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Fathom.Engine.Diagnostics;

/// <summary>
/// The engine's instruments on the <c>Fathom.Engine</c> meter, named as docs/metrics.md specifies (OpenTelemetry
/// GenAI names where they exist, <c>fathom.engine.*</c> otherwise). Recorded from the engine loop thread.
/// </summary>
public sealed class EngineMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Fathom.Engine";

    private static readonly double[] LatencyBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _model;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _timePerOutputToken;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<int> _tokenUsage;
    private readonly Histogram<double> _queueTime;
    private readonly Histogram<double> _stepDuration;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _generationTokens;
    private readonly UpDownCounter<long> _waiting;
    private readonly UpDownCounter<long> _running;
    private readonly Counter<long> _prefixQueries;
    private readonly Counter<long> _prefixHits;
    private double _kvUsage;
    private int _stepTokenBudget;

    /// <summary>Instruments for <paramref name="modelName"/> (the <c>gen_ai.request.model</c> attribute).</summary>
    /// <param name="modelName">The served model's name.</param>
    /// <param name="meterFactory">The host's meter factory; null creates a standalone meter.</param>
    public EngineMetrics(string modelName, IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _model = new("gen_ai.request.model", modelName);
        _timeToFirstToken = _meter.CreateHistogram<double>("gen_ai.server.time_to_first_token", "s",
            "Time from arrival to the first output token, queue time included.", advice: new() { HistogramBucketBoundaries = LatencyBuckets });
        _timePerOutputToken = _meter.CreateHistogram<double>("gen_ai.server.time_per_output_token", "s",
            "Time between consecutive output tokens of a sequence (inter-token latency).", advice: new() { HistogramBucketBoundaries = LatencyBuckets });
        _requestDuration = _meter.CreateHistogram<double>("gen_ai.server.request.duration", "s",
            "Time from arrival to the last output token.", advice: new() { HistogramBucketBoundaries = LatencyBuckets });
        _tokenUsage = _meter.CreateHistogram<int>("gen_ai.client.token.usage", "{token}",
            "Prompt (input) and generated (output) tokens per request.",
            advice: new() { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] });
        _queueTime = _meter.CreateHistogram<double>("fathom.engine.request.queue_time", "s",
            "Time from arrival to the first scheduled step.", advice: new() { HistogramBucketBoundaries = LatencyBuckets });
        _stepDuration = _meter.CreateHistogram<double>("fathom.engine.step.duration", "s",
            "Time of one forward step, by what it carried (fathom.step.kind: decode, mixed or prefill).", advice: new() { HistogramBucketBoundaries = LatencyBuckets });
        _promptTokens = _meter.CreateCounter<long>("fathom.engine.prompt_tokens", "{token}", "Prompt tokens processed (prefilled or cached).");
        _generationTokens = _meter.CreateCounter<long>("fathom.engine.generation_tokens", "{token}", "Output tokens generated.");
        _waiting = _meter.CreateUpDownCounter<long>("fathom.engine.requests.waiting", "{request}", "Requests queued for admission.");
        _running = _meter.CreateUpDownCounter<long>("fathom.engine.requests.running", "{request}", "Sequences in the running batch.");
        _meter.CreateObservableGauge("fathom.engine.kv_cache.usage_ratio", () => Volatile.Read(ref _kvUsage), null,
            "Used KV blocks over all KV blocks.");
        _meter.CreateObservableGauge("fathom.engine.step.token_budget", () => Volatile.Read(ref _stepTokenBudget), "{token}",
            "Most tokens the scheduler puts in one forward step now (learned from step times unless fixed).");
        _prefixQueries = _meter.CreateCounter<long>("fathom.engine.prefix_cache.queries", "{token}", "Prompt tokens looked up in the local prefix cache.");
        _prefixHits = _meter.CreateCounter<long>("fathom.engine.prefix_cache.hits", "{token}", "Prompt tokens found in the local prefix cache.");
    }

    /// <summary>A request entered the queue.</summary>
    public void RequestQueued() => _waiting.Add(1);

    /// <summary>A request left the queue for its first step after <paramref name="queued"/>.</summary>
    public void RequestStarted(TimeSpan queued, int promptTokens)
    {
        _waiting.Add(-1);
        _queueTime.Record(queued.TotalSeconds, _model);
        _promptTokens.Add(promptTokens, _model);
    }

    /// <summary>The running batch changed size by <paramref name="delta"/> sequences.</summary>
    public void RunningChanged(long delta)
    {
        if (delta != 0)
        {
            _running.Add(delta);
        }
    }

    /// <summary>A sequence produced a token; <paramref name="sincePrevious"/> is null for its first.</summary>
    public void TokenGenerated(TimeSpan sinceArrival, TimeSpan? sincePrevious)
    {
        _generationTokens.Add(1, _model);
        if (sincePrevious is { } gap)
        {
            _timePerOutputToken.Record(gap.TotalSeconds, _model);
        }
        else
        {
            _timeToFirstToken.Record(sinceArrival.TotalSeconds, _model);
        }
    }

    /// <summary>A request ended; <paramref name="errorType"/> is set when it did not complete normally.</summary>
    public void RequestFinished(TimeSpan duration, int promptTokens, int outputTokens, bool started, string? errorType)
    {
        if (!started)
        {
            _waiting.Add(-1);
        }

        var tags = new TagList { _model };
        if (errorType is not null)
        {
            tags.Add("error.type", errorType);
        }

        _requestDuration.Record(duration.TotalSeconds, tags);
        _tokenUsage.Record(promptTokens, _model, new("gen_ai.token.type", "input"));
        _tokenUsage.Record(outputTokens, _model, new("gen_ai.token.type", "output"));
    }

    /// <summary>Prefix-cache lookups since the last call: <paramref name="queried"/> tokens, <paramref name="hit"/> found.</summary>
    public void PrefixCacheLookups(long queried, long hit)
    {
        if (queried > 0)
        {
            _prefixQueries.Add(queried, _model);
        }

        if (hit > 0)
        {
            _prefixHits.Add(hit, _model);
        }
    }

    /// <summary>
    /// Publishes the served weights' bytes in memory by the type they are held in (<c>fathom.engine.weights.memory</c>,
    /// one series per <c>fathom.weights.type</c>): what <c>--quantize</c> turned them into, and what they cost.
    /// </summary>
    public void ServedWeights(IReadOnlyDictionary<string, long> bytesByType)
    {
        ArgumentNullException.ThrowIfNull(bytesByType);
        var measurements = bytesByType.Select(p => new Measurement<long>(p.Value, _model, new("fathom.weights.type", p.Key))).ToArray();
        _meter.CreateObservableGauge("fathom.engine.weights.memory", () => measurements, "By",
            "Bytes the served weights take in memory, by the type they are held in.");
    }

    /// <summary>
    /// A forward step of <paramref name="decodes"/> decodes and <paramref name="prefillTokens"/> prefill tokens took
    /// <paramref name="elapsed"/>, recorded as <c>decode</c> when it carried only decodes, <c>mixed</c> when decodes and prefill (the steps
    /// the step-time target bounds), <c>prefill</c> when only prefill.
    /// </summary>
    public void StepFinished(TimeSpan elapsed, int decodes, int prefillTokens)
    {
        string kind = prefillTokens == 0 ? "decode" : decodes == 0 ? "prefill" : "mixed";
        _stepDuration.Record(elapsed.TotalSeconds, _model, new("fathom.step.kind", kind));
    }

    /// <summary>The KV cache's used fraction now.</summary>
    public void KvCacheUsage(double ratio) => Volatile.Write(ref _kvUsage, ratio);

    /// <summary>The scheduler's per-step token budget now.</summary>
    public void StepTokenBudget(int tokens) => Volatile.Write(ref _stepTokenBudget, tokens);

    /// <inheritdoc/>
    public void Dispose() => _meter.Dispose();
}
