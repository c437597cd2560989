using System.Globalization;
using System.Text.Json;

namespace Fathom.Cli.Commands;

/// <summary>Aggregates of a run.</summary>
internal sealed class ServeBenchResult(ServeBenchSettings settings, TimeSpan wall, IReadOnlyList<RequestSample> samples)
{
    private readonly List<RequestSample> _ok = [.. samples.Where(s => s.Succeeded)];

    public int Failed => samples.Count - _ok.Count;

    public double OutputTokensPerSecond => _ok.Sum(s => s.OutputTokens) / wall.TotalSeconds;

    public double RequestsPerSecond => _ok.Count / wall.TotalSeconds;

    public double[] Ttft => [.. _ok.Select(s => s.TimeToFirstToken).Order()];

    public double[] Itl => [.. _ok.SelectMany(s => s.InterTokenLatencies).Order()];

    public double[] Latency => [.. _ok.Select(s => s.Latency).Order()];

    /// <summary>The tail of the inter-token latency over its median: the "ITL p99 ≤ 3 × p50".</summary>
    public double ItlTailRatio => Percentile(Itl, 99) / Percentile(Itl, 50);

    /// <summary>Output tokens that arrived in a chunk with an earlier token rather than in one of their own.</summary>
    public int TokensWithoutOwnChunk => _ok.Sum(s => Math.Max(0, s.OutputTokens - s.Chunks));

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        string Line(string name, double[] sorted, double scale, string unit) => string.Create(c,
            $"{name,-8} p50 {Percentile(sorted, 50) * scale,9:F2}  p90 {Percentile(sorted, 90) * scale,9:F2}  p99 {Percentile(sorted, 99) * scale,9:F2}  {unit}");
        return string.Join(Environment.NewLine,
            string.Create(c, $"requests {_ok.Count} ok, {Failed} failed; concurrency {settings.Concurrency}; prompt {settings.PromptTokens} + gen {settings.GenTokens} tokens; {wall.TotalSeconds:F2} s"),
            string.Create(c, $"throughput {OutputTokensPerSecond:F1} output tok/s, {RequestsPerSecond:F2} req/s"),
            Line("TTFT", Ttft, 1000, "ms"),
            Line("ITL", Itl, 1000, "ms"),
            string.Create(c, $"ITL p99/p50 {ItlTailRatio:F2} over {Itl.Length} gaps; {TokensWithoutOwnChunk} tokens arrived without a chunk of their own"),
            Line("latency", Latency, 1, "s"));
    }

    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["requests"] = _ok.Count,
        ["failed"] = Failed,
        ["concurrency"] = settings.Concurrency,
        ["prompt_tokens"] = settings.PromptTokens,
        ["gen_tokens"] = settings.GenTokens,
        ["duration_s"] = Math.Round(wall.TotalSeconds, 3),
        ["output_tok_s"] = Math.Round(OutputTokensPerSecond, 2),
        ["req_s"] = Math.Round(RequestsPerSecond, 3),
        ["ttft_ms"] = Percentiles(Ttft, 1000),
        ["itl_ms"] = Percentiles(Itl, 1000),
        ["itl_p99_over_p50"] = Math.Round(ItlTailRatio, 3),
        ["tokens_without_own_chunk"] = TokensWithoutOwnChunk,
        ["latency_s"] = Percentiles(Latency, 1),
    });

    /// <summary>One JSON line per request: when it was sent (s from the start of the run) and each chunk's arrival (s from sending).</summary>
    public IEnumerable<string> TimelineLines() => samples.Select((s, i) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["request"] = i,
        ["ok"] = s.Succeeded,
        ["sent_s"] = Math.Round(s.SentAt, 6),
        ["output_tokens"] = s.OutputTokens,
        ["arrivals_s"] = s.Arrivals.Select(a => Math.Round(a, 6)).ToArray(),
    }));

    private static Dictionary<string, double> Percentiles(double[] sorted, double scale) => new()
    {
        ["p50"] = Math.Round(Percentile(sorted, 50) * scale, 3),
        ["p90"] = Math.Round(Percentile(sorted, 90) * scale, 3),
        ["p99"] = Math.Round(Percentile(sorted, 99) * scale, 3),
    };
}
