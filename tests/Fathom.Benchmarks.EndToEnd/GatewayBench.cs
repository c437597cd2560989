using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fathom.Gguf;
using Fathom.Engine.Tests.Model;
using Fathom.Testing;

/// <summary>
/// The API gateway benchmark (docs/benchmarks.md, "API gateway"; scripts/bench-gateway.sh starts the processes):
/// <c>gateway-model</c> writes the synthetic model, <c>gateway-workload</c> plays 8 conversations × 6 turns with
/// long distinct system prompts through the API and reports prefix-cache hit rate, TTFT and which replica served
/// each turn; <c>gateway-overhead</c> times a trivial request straight to an engine and through the API.
/// </summary>
internal static class GatewayBench
{
    /// <summary>A ~124M-parameter Llama shape (12 layers, 768 wide, GQA 12/4, 32000-token SentencePiece-style vocabulary): big enough that prefill shows.</summary>
    public static SyntheticLlamaShape Shape { get; } = new(768, 12, 12, 4, 2048, 32000);

    public static void WriteModel(Dictionary<string, string> options)
    {
        string path = options["out"];
        if (File.Exists(path))
        {
            Console.WriteLine($"model {path} exists");
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        SyntheticLlama.Write(path + ".tmp", Shape, GgmlType.Q8_0);
        File.Move(path + ".tmp", path);
        Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1e6:F0} MB)");
    }

    public static async Task RunWorkloadAsync(Dictionary<string, string> options)
    {
        var api = new Uri(options["api"]);
        var engines = options["engines"].Split(',').Select(e => new Uri(e)).ToArray();
        int conversations = Int(options, "conversations", 8), turns = Int(options, "turns", 6), systemChars = Int(options, "system-chars", 800);
        using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(10) };
        var before = await PrefixCounters(engines);
        var histories = Enumerable.Range(0, conversations).Select(c => new List<object> { new { role = "system", content = SystemPrompt(c, systemChars) } }).ToArray();
        var served = Enumerable.Range(0, conversations).Select(_ => new StringBuilder()).ToArray();
        var ttfts = new List<double>();
        long promptTokens = 0, cachedTokens = 0;
        for (int turn = 0; turn < turns; turn++)
        {
            // Conversations take turns in a shuffled order each round, as independent users would; a fixed order
            // would let round-robin pin conversation c to replica c % N by accident.
            int[] order = [.. Enumerable.Range(0, conversations)];
            new Random(4242 + turn).Shuffle(order);
            foreach (int c in order)
            {
                histories[c].Add(new { role = "user", content = $"Question {turn}: and then what?" });
                var (ttft, replica, usage) = await ChatAsync(http, histories[c]);
                ttfts.Add(ttft);
                promptTokens += usage.Prompt;
                cachedTokens += usage.Cached;
                served[c].Append(Array.FindIndex(engines, e => e.ToString().TrimEnd('/') == replica.TrimEnd('/')) switch { -1 => '?', var i => (char)('A' + i) });
                histories[c].Add(new { role = "assistant", content = $"Answer {turn}: the fox walks on." });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  turn {turn} conv {c}: replica {served[c][^1]}, prompt {usage.Prompt}, cached {usage.Cached}, TTFT {ttft:F0} ms"));
            }
        }

        var after = await PrefixCounters(engines);
        double hits = after.Hits - before.Hits, queries = after.Queries - before.Queries;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT requests {ttfts.Count}; engine prefix cache hit rate {hits / queries:P1} ({hits:F0} of {queries:F0} prompt tokens); "
            + $"cached_tokens {(double)cachedTokens / promptTokens:P1} ({cachedTokens} of {promptTokens}); mean TTFT {ttfts.Average():F0} ms "
            + $"(turn 0: {ttfts.Take(conversations).Average():F0} ms, turns 1+: {ttfts.Skip(conversations).Average():F0} ms)"));
        Console.WriteLine("RESULT replicas per conversation (turn 0..): " + string.Join(' ', served.Select((s, c) => $"c{c}:{s}")));
    }

    public static async Task RunOverheadAsync(Dictionary<string, string> options)
    {
        var api = new Uri(options["api"]);
        var engine = new Uri(options["engine"]);
        int n = Int(options, "n", 200);
        using var viaApi = new HttpClient { BaseAddress = api };
        using var direct = new HttpClient { BaseAddress = engine };
        var body = new { model = "bench", max_tokens = 1, temperature = 0, messages = new[] { new { role = "user", content = "Hi" } } };
        async Task<double> TimeAsync(HttpClient http)
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", body);
            response.EnsureSuccessStatusCode();
            _ = await response.Content.ReadAsByteArrayAsync();
            return clock.Elapsed.TotalMilliseconds;
        }

        for (int i = 0; i < 10; i++)
        {
            await TimeAsync(direct);
            await TimeAsync(viaApi);
        }

        // Alternating, so load changes on the shared machine hit both series alike.
        var d = new List<double>();
        var g = new List<double>();
        for (int i = 0; i < n; i++)
        {
            d.Add(await TimeAsync(direct));
            g.Add(await TimeAsync(viaApi));
        }

        double P(List<double> xs, double q) => xs.Order().ElementAt(Math.Min(xs.Count - 1, (int)Math.Ceiling(q * xs.Count) - 1));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {n} sequential requests each: direct p50 {P(d, 0.5):F2} ms p99 {P(d, 0.99):F2} ms; via API p50 {P(g, 0.5):F2} ms p99 {P(g, 0.99):F2} ms; "
            + $"added p50 {P(g, 0.5) - P(d, 0.5):F2} ms, p99 {P(g, 0.99) - P(d, 0.99):F2} ms"));
    }

    /// <summary>A distinct, deterministic system prompt of about <paramref name="chars"/> characters for conversation <paramref name="c"/>.</summary>
    private static string SystemPrompt(int c, int chars)
    {
        string[] words = ["river", "lantern", "quiet", "mountain", "story", "careful", "answer", "winter", "garden", "bright", "always", "reader", "gentle", "market", "never", "harbor"];
        var random = new Random(1000 + c);
        var text = new StringBuilder($"You are assistant number {c}. Follow these house rules. ");
        while (text.Length < chars)
        {
            text.Append(words[random.Next(words.Length)]).Append(random.Next(8) == 0 ? ". " : " ");
        }

        return text.ToString();
    }

    private static async Task<(double TtftMs, string Replica, (long Prompt, long Cached) Usage)> ChatAsync(HttpClient http, List<object> messages)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new
            {
                model = "bench", max_tokens = 8, temperature = 0, stream = true, stream_options = new { include_usage = true }, messages,
            }),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        string replica = response.Headers.TryGetValues("x-fathom-replica", out var r) ? r.Single() : "?";
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double ttft = double.NaN;
        (long, long) usage = (0, 0);
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            using var chunk = JsonDocument.Parse(line["data: ".Length..]);
            var root = chunk.RootElement;
            if (double.IsNaN(ttft) && root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 })
            {
                ttft = clock.Elapsed.TotalMilliseconds;
            }

            if (root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
            {
                long cached = u.TryGetProperty("prompt_tokens_details", out var details) && details.TryGetProperty("cached_tokens", out var ct) ? ct.GetInt64() : 0;
                usage = (u.GetProperty("prompt_tokens").GetInt64(), cached);
            }
        }

        return (double.IsNaN(ttft) ? clock.Elapsed.TotalMilliseconds : ttft, replica, usage);
    }

    private static async Task<(double Hits, double Queries)> PrefixCounters(Uri[] engines)
    {
        double hits = 0, queries = 0;
        foreach (var engine in engines)
        {
            hits += await PrometheusText.ScrapeAsync(engine, "fathom_engine_prefix_cache_hits_total") ?? 0;
            queries += await PrometheusText.ScrapeAsync(engine, "fathom_engine_prefix_cache_queries_total") ?? 0;
        }

        return (hits, queries);
    }

    private static int Int(Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
