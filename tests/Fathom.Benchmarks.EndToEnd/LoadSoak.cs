using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Fathom.Testing.Hostile;

/// <summary>
/// The soak load driver (issue #18; scripts/load-soak.sh starts and kills the processes): N concurrent streams
/// through the API for M minutes, each request under a client timeout; counts requests and failures by class
/// (4xx/5xx, OpenAI-shaped JSON or not, SSE error events, connection failures, timeouts), latency percentiles, and
/// the RSS of every server process named in --pid-dir (NAME.pid, rewritten by the script on a restart), sampled
/// every few seconds from /proc/PID/status. Prints a markdown table for docs/benchmarks.md.
/// </summary>
internal static class LoadSoak
{
    private static readonly string[] Subjects = ["Lily", "Tom", "a small dog", "the old king", "Sue", "a red bird", "Ben", "the moon"];
    private static readonly string[] Actions = ["found a ball", "went to the park", "was sad", "wanted a cake", "saw a big tree", "lost a shoe"];

    public static async Task<int> RunAsync(Dictionary<string, string> options)
    {
        var api = new Uri(options["api"]);
        string model = options.GetValueOrDefault("model", "stories260K");
        string? key = options.GetValueOrDefault("key");
        int streams = Int(options, "streams", 64), maxTokens = Int(options, "max-tokens", 64);
        var duration = TimeSpan.FromMinutes(double.Parse(options.GetValueOrDefault("minutes", "10"), CultureInfo.InvariantCulture));
        var timeout = TimeSpan.FromSeconds(Int(options, "timeout-s", 120));
        string? pidDir = options.GetValueOrDefault("pid-dir");
        string? markdownOut = options.GetValueOrDefault("out");

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = streams * 2 }) { BaseAddress = api, Timeout = Timeout.InfiniteTimeSpan };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }

        var outcomes = new ConcurrentQueue<(TimeSpan At, HostileOutcome Outcome)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var sampler = pidDir is null ? Task.FromResult(new Dictionary<string, RssTrack>()) : SampleRssAsync(pidDir, TimeSpan.FromSeconds(3), stop.Token);
        var progress = ReportProgressAsync(outcomes, clock, duration, stop.Token);
        await Task.WhenAll(Enumerable.Range(0, streams).Select(worker => Task.Run(async () =>
        {
            var random = new Random(1000 + worker);
            while (clock.Elapsed < duration)
            {
                byte[] body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
                {
                    ["model"] = model,
                    ["stream"] = true,
                    ["max_tokens"] = random.Next(maxTokens / 2, maxTokens + 1),
                    ["temperature"] = 0.8,
                    ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = $"{Subjects[random.Next(Subjects.Length)]} {Actions[random.Next(Actions.Length)]} and" } },
                });
                var outcome = await HostileClient.SendAsync(http, HostileBody.ChatPath, body, timeout, CancellationToken.None);
                outcomes.Enqueue((clock.Elapsed, outcome));
                if (outcome.Kind == OutcomeKind.Connection)
                {
                    await Task.Delay(200); // a refused connection fails at once: do not spin while a process restarts
                }
            }
        })));
        await stop.CancelAsync();
        var rss = await sampler;
        await progress;

        string table = Markdown([.. outcomes], rss, streams, duration, timeout, clock.Elapsed);
        Console.WriteLine();
        Console.WriteLine(table);
        if (markdownOut is not null)
        {
            await File.WriteAllTextAsync(markdownOut, table);
        }

        var all = outcomes.Select(o => o.Outcome).ToArray();
        return all.Any(o => o.Kind == OutcomeKind.Timeout) ? 1 : 0;
    }

    private static string Markdown(
        (TimeSpan At, HostileOutcome Outcome)[] outcomes, Dictionary<string, RssTrack> rss, int streams, TimeSpan duration, TimeSpan timeout, TimeSpan elapsed)
    {
        var all = outcomes.Select(o => o.Outcome).ToArray();
        int Count(Func<HostileOutcome, bool> f) => all.Count(f);
        var ok = all.Where(o => o.Kind == OutcomeKind.Success && !o.SseError).Select(o => o.Elapsed.TotalSeconds).Order().ToArray();
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"Load soak: {streams} concurrent streams for {duration.TotalMinutes:0.#} min (ran {elapsed.TotalSeconds:F0} s), client timeout {timeout.TotalSeconds:F0} s; {DateTime.UtcNow:yyyy-MM-ddTHH:mm}Z.");
        text.AppendLine();
        text.AppendLine("| requests | completed | 4xx (JSON / other) | 5xx (JSON / other) | 200 streams with an SSE error event | connection failures | timeouts | p50 latency | p99 latency |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        text.AppendLine(inv,
            $"| {all.Length} | {ok.Length} | {Count(o => o.Kind == OutcomeKind.ClientError && o.ErrorJson)} / {Count(o => o.Kind == OutcomeKind.ClientError && !o.ErrorJson)} " +
            $"| {Count(o => o.Kind == OutcomeKind.ServerError && o.ErrorJson)} / {Count(o => o.Kind == OutcomeKind.ServerError && !o.ErrorJson)} " +
            $"| {Count(o => o.SseError)} | {Count(o => o.Kind == OutcomeKind.Connection)} | {Count(o => o.Kind == OutcomeKind.Timeout)} " +
            $"| {Percentile(ok, 0.50):F2} s | {Percentile(ok, 0.99):F2} s |");
        text.AppendLine();

        // Failures by third of the run: the engine restart falls in the second, the redis restart in the third.
        text.AppendLine("| part of the run | requests | failed (any class) | statuses of the failures |");
        text.AppendLine("|---|---|---|---|");
        for (int third = 0; third < 3; third++)
        {
            var part = outcomes.Where(o => (int)Math.Min(2, o.At / elapsed * 3) == third).Select(o => o.Outcome).ToArray();
            var failed = part.Where(o => o.Kind != OutcomeKind.Success || o.SseError).ToArray();
            string statuses = string.Join(' ', failed.GroupBy(Label).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}×{g.Count()}"));
            text.AppendLine(inv, $"| {third + 1}/3 | {part.Length} | {failed.Length} | {(statuses.Length == 0 ? "-" : statuses)} |");
        }

        if (rss.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("| process | RSS start | RSS max | RSS end | processes (pids) |");
            text.AppendLine("|---|---|---|---|---|");
            foreach (var (name, track) in rss.OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                text.AppendLine(inv, $"| {name} | {track.Start / 1024.0:F0} MiB | {track.Max / 1024.0:F0} MiB | {track.End / 1024.0:F0} MiB | {track.Pids.Count} ({string.Join(", ", track.Pids)}) |");
            }
        }

        var examples = all.Where(o => o.Kind != OutcomeKind.Success || o.SseError).GroupBy(Label).Select(g => $"{g.Key}: {g.First().Detail.ReplaceLineEndings(" ")}").ToArray();
        if (examples.Length > 0)
        {
            text.AppendLine();
            text.AppendLine("First failure of each kind:");
            text.AppendLine();
            foreach (string example in examples)
            {
                text.AppendLine(inv, $"- {(example.Length > 300 ? example[..300] + "…" : example)}");
            }
        }

        return text.ToString();
    }

    private static string Label(HostileOutcome o) => o.Kind switch
    {
        OutcomeKind.Success => "SSE error event",
        OutcomeKind.Connection => "connection",
        OutcomeKind.Timeout => "timeout",
        _ => o.Status.ToString(CultureInfo.InvariantCulture) + (o.ErrorJson ? " JSON" : " non-JSON"),
    };

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static async Task ReportProgressAsync(ConcurrentQueue<(TimeSpan At, HostileOutcome Outcome)> outcomes, Stopwatch clock, TimeSpan duration, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
                var snapshot = outcomes.ToArray();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{clock.Elapsed.TotalSeconds,5:F0}/{duration.TotalSeconds:F0} s: {snapshot.Length} requests, {snapshot.Count(o => o.Outcome.Kind != OutcomeKind.Success || o.Outcome.SseError)} failed"));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<Dictionary<string, RssTrack>> SampleRssAsync(string pidDir, TimeSpan every, CancellationToken cancellationToken)
    {
        var tracks = new Dictionary<string, RssTrack>(StringComparer.Ordinal);
        while (true)
        {
            foreach (string file in Directory.Exists(pidDir) ? Directory.GetFiles(pidDir, "*.pid") : [])
            {
                if (int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out int pid) && ResidentKiB(pid) is { } kib)
                {
                    string name = Path.GetFileNameWithoutExtension(file);
                    if (!tracks.TryGetValue(name, out var track))
                    {
                        tracks[name] = track = new RssTrack(kib);
                    }

                    track.Add(pid, kib);
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return tracks;
            }

            try
            {
                await Task.Delay(every, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // one last sample: the end values
            }
        }
    }

    private static long? ResidentKiB(int pid)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null; // the process is gone (killed by the script)
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static int Int(Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out string? v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>One server process's resident memory over the run, across restarts (each restart is a new pid).</summary>
    private sealed class RssTrack(long startKiB)
    {
        public long Start { get; } = startKiB;

        public long Max { get; private set; } = startKiB;

        public long End { get; private set; } = startKiB;

        public List<int> Pids { get; } = [];

        public void Add(int pid, long kib)
        {
            if (!Pids.Contains(pid))
            {
                Pids.Add(pid);
            }

            Max = Math.Max(Max, kib);
            End = kib;
        }
    }
}
