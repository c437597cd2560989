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
        ["latency_s"] = Percentiles(Latency, 1),
    });

    private static Dictionary<string, double> Percentiles(double[] sorted, double scale) => new()
    {
        ["p50"] = Math.Round(Percentile(sorted, 50) * scale, 3),
        ["p90"] = Math.Round(Percentile(sorted, 90) * scale, 3),
        ["p99"] = Math.Round(Percentile(sorted, 99) * scale, 3),
    };
}
