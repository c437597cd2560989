using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Fathom.Cli.Commands;

/// <summary>What <c>fathom bench serve</c> sends.</summary>
internal sealed record ServeBenchSettings(string Url, string? Model, int Concurrency, int Requests, int PromptTokens, int GenTokens)
{
    /// <summary>Salts the prompts: runs with the same seed send the same prompts.</summary>
    public int Seed { get; init; }

    public Uri BaseAddress => Uri.TryCreate(Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        ? uri : throw new ArgumentException($"--url '{Url}' is not an http(s) URL.");

    public void Validate()
    {
        _ = BaseAddress;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Concurrency, "--concurrency");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Requests, "--requests");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PromptTokens, "--prompt-tokens");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(GenTokens, "--gen-tokens");
    }
}

/// <summary>The load generator and its measurements.</summary>
internal static class ServeBench
{
    public static async Task<ServeBenchResult> RunAsync(HttpClient http, ServeBenchSettings settings, CancellationToken cancellationToken)
    {
        string model = settings.Model ?? await FirstModelAsync(http, cancellationToken);
        var samples = new RequestSample[settings.Requests];
        int next = -1;
        var clock = Stopwatch.StartNew();
        long runStart = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, Math.Min(settings.Concurrency, settings.Requests)).Select(_ => Task.Run(async () =>
        {
            for (int i = Interlocked.Increment(ref next); i < settings.Requests; i = Interlocked.Increment(ref next))
            {
                samples[i] = await OneAsync(http, model, settings, i, runStart, cancellationToken);
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        return new ServeBenchResult(settings, clock.Elapsed, samples);
    }

    private static async Task<string> FirstModelAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var models = await http.GetFromJsonAsync<JsonElement>("/v1/models", cancellationToken);
        return models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).FirstOrDefault()
            ?? throw new InvalidOperationException("the server lists no model");
    }

    // splitmix64's finalizer: neighbouring inputs give unrelated outputs.
    private static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private static async Task<RequestSample> OneAsync(HttpClient http, string model, ServeBenchSettings settings, int index, long runStart, CancellationToken cancellationToken)
    {
        // Distinct prompts (ids 3..258 exist in every Llama vocabulary): no prefix-cache hits between requests,
        // nor between runs unless they share the seed.
        var prompt = Enumerable.Range(0, settings.PromptTokens).Select(i => 3 + (int)(Mix(((ulong)(uint)settings.Seed << 40) ^ ((ulong)index << 20) ^ (ulong)i) % 256)).ToArray();
        var body = new Dictionary<string, object>
        {
            ["model"] = model,
            ["prompt"] = prompt,
            ["max_tokens"] = settings.GenTokens,
            ["temperature"] = 0,
            ["ignore_eos"] = true,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
        };
        var start = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return RequestSample.Failure;
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        var arrivals = new List<double>();
        int outputTokens = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]")
            {
                continue;
            }

            using var chunk = JsonDocument.Parse(line.AsMemory(6));
            if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                outputTokens = usage.GetProperty("completion_tokens").GetInt32();
            }

            if (chunk.RootElement.GetProperty("choices").GetArrayLength() > 0)
            {
                arrivals.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }

        // As vLLM's benchmark_serving: TTFT is the first chunk with a choice, ITL every later chunk's gap to the one
        // before it. A chunk may carry more than one token (the server holds back text that is not yet whole UTF-8),
        // so the run also reports how many tokens came without a chunk of their own.
        double sent = Stopwatch.GetElapsedTime(runStart, start).TotalSeconds;
        return arrivals.Count == 0 ? RequestSample.Failure
            : new RequestSample(true, arrivals[0], arrivals.Zip(arrivals.Skip(1), (a, b) => b - a).ToArray(), arrivals[^1], outputTokens)
            {
                Chunks = arrivals.Count,
                SentAt = sent,
                Arrivals = [.. arrivals],
            };
    }
}

/// <summary>One request's timings (seconds from sending it).</summary>
internal sealed record RequestSample(bool Succeeded, double TimeToFirstToken, double[] InterTokenLatencies, double Latency, int OutputTokens)
{
    public static RequestSample Failure { get; } = new(false, 0, [], 0, 0);

    /// <summary>Streamed chunks that carried a choice.</summary>
    public int Chunks { get; init; }

    /// <summary>When the request was sent, in seconds from the start of the run.</summary>
    public double SentAt { get; init; }

    /// <summary>Each chunk's arrival, in seconds from sending the request.</summary>
    public double[] Arrivals { get; init; } = [];
}
