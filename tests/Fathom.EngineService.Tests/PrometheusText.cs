using System.Globalization;

namespace Fathom.EngineService.Tests;

/// <summary>Reads series values out of Prometheus' text exposition format.</summary>
internal static class PrometheusText
{
    /// <summary>The value of <paramref name="series"/>, summed over its label sets; null when absent.</summary>
    public static double? Value(string text, string series)
    {
        double? sum = null;
        foreach (string line in text.Split('\n'))
        {
            if (!line.StartsWith(series, StringComparison.Ordinal) || line.Length <= series.Length || line[series.Length] is not (' ' or '{'))
            {
                continue;
            }

            int close = line.IndexOf('}', StringComparison.Ordinal);
            string rest = line[(close >= 0 ? close + 1 : series.Length)..].Trim();
            sum = (sum ?? 0) + double.Parse(rest.Split(' ')[0], CultureInfo.InvariantCulture);
        }

        return sum;
    }
}
