using System.Text.RegularExpressions;
using Fathom.Testing;

namespace Fathom.AppHost.Tests.Telemetry;

/// <summary>The Prometheus series docs/metrics.md promises, and the metric names a PromQL expression uses.</summary>
internal static partial class MetricsCatalog
{
    private static readonly string[] HistogramSeries = ["_bucket", "_sum", "_count"];

    /// <summary>Every series name a query may use: counters and gauges as listed, histograms with their three series.</summary>
    public static IReadOnlySet<string> LoadSeries()
    {
        var series = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(RepositoryRoot.Find(), "docs", "metrics.md")))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length < 4 || !cells[2].StartsWith('`'))
            {
                continue;
            }
            var name = cells[2].Trim('`');
            series.Add(name);
            if (cells[1].Contains("histogram", StringComparison.Ordinal))
            {
                foreach (var suffix in HistogramSeries)
                {
                    series.Add(name + suffix);
                }
            }
        }
        return series;
    }

    /// <summary>The metric names in a PromQL expression: identifiers outside label matchers and grouping clauses.</summary>
    public static IReadOnlyList<string> MetricNamesIn(string promQl)
    {
        var withoutLabels = LabelMatchers().Replace(promQl, " ");
        withoutLabels = Grouping().Replace(withoutLabels, " ");
        return [.. Identifier().Matches(withoutLabels)
            .Select(m => m.Value)
            .Where(name => name.StartsWith("fathom_", StringComparison.Ordinal) || name.StartsWith("gen_ai_", StringComparison.Ordinal) || name.StartsWith("vllm:", StringComparison.Ordinal))];
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"[A-Za-z_:][A-Za-z0-9_:]*")]
    private static partial Regex Identifier();
}
