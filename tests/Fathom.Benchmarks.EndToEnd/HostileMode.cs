using System.Globalization;
using Fathom.Testing.Hostile;

/// <summary>
/// The hostile-traffic suite run for longer against any URL (scripts/hostile-traffic.sh): rounds of the generator
/// (seed, seed+1, …) with bounded concurrency while four innocent streams run; prints counts by status class,
/// connection failures, timeouts, the contract's violations, and whether the innocent outputs matched their solo runs.
/// </summary>
internal static class HostileMode
{
    public static async Task<int> RunAsync(Dictionary<string, string> options)
    {
        var url = new Uri(options["url"]);
        string model = options.GetValueOrDefault("model", "stories260K");
        string key = options.GetValueOrDefault("key", "unused");
        int rounds = Int(options, "rounds", 3), seed = Int(options, "seed", 18), concurrency = Int(options, "concurrency", 8);
        int mutations = Int(options, "mutations", 500);
        var timeout = TimeSpan.FromSeconds(Int(options, "timeout-s", 60));
        bool huge = options.GetValueOrDefault("huge", "true") != "false";

        using var http = new HttpClient { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var innocent = new InnocentStreams(new Uri(url, "v1"), model, key);
        await innocent.RecordSoloAsync(CancellationToken.None);
        int violations = 0, innocentRuns = 0, innocentFailures = 0;
        var totals = new Dictionary<OutcomeKind, int>();
        for (int round = 0; round < rounds; round++)
        {
            var bodies = HostileBodies.Generate(model, seed + round, mutations, huge);
            var hostile = HostileTraffic.SendAllAsync(http, bodies, concurrency, timeout, CancellationToken.None);
            var bystanders = innocent.RunUntilAsync(hostile, maxRounds: 10_000, CancellationToken.None);
            var report = await hostile;
            var during = await bystanders;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"== round {round + 1}/{rounds}, seed {seed + round}"));
            Console.WriteLine(report.Describe(max: 40));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"innocent streams: {during.Runs} run(s), {during.Failures.Count} differed or failed"));
            during.Failures.Take(10).ToList().ForEach(Console.WriteLine);
            violations += report.Violations().Count;
            innocentRuns += during.Runs;
            innocentFailures += during.Failures.Count;
            foreach (var (kind, count) in report.Counts)
            {
                totals[kind] = totals.GetValueOrDefault(kind) + count;
            }
        }

        var after = await innocent.RunUntilAsync(Task.CompletedTask, maxRounds: 1, CancellationToken.None);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total: 2xx {totals.GetValueOrDefault(OutcomeKind.Success)}, 4xx {totals.GetValueOrDefault(OutcomeKind.ClientError)}, " +
            $"5xx {totals.GetValueOrDefault(OutcomeKind.ServerError)}, connection failures (resets) {totals.GetValueOrDefault(OutcomeKind.Connection)}, " +
            $"timeouts {totals.GetValueOrDefault(OutcomeKind.Timeout)}; contract violations {violations}; " +
            $"innocent streams {innocentRuns - innocentFailures}/{innocentRuns} matched their solo runs; afterwards {(after.AllMatched ? "the server answers normally" : "FAILED: " + string.Join("; ", after.Failures))}"));
        return violations == 0 && innocentFailures == 0 && after.AllMatched ? 0 : 1;
    }

    private static int Int(Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out string? v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
