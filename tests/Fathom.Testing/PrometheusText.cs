using System.Globalization;

namespace Fathom.Testing;

/// <summary>Reads series values out of Prometheus' text exposition format, as a service's <c>/metrics</c> serves it.</summary>
public static class PrometheusText
{
    /// <summary>
    /// The value of <paramref name="series"/>, summed over its label sets that contain <paramref name="labelFilter"/>
    /// (e.g. <c>fathom_route="prefix"</c>); null when no such line exists.
    /// </summary>
    public static double? Value(string text, string series, string labelFilter = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrEmpty(series);
        double? sum = null;
        foreach (string line in text.Split('\n'))
        {
            // The name must end where the series does: fathom_x must not match fathom_x_total.
            if (!line.StartsWith(series, StringComparison.Ordinal) || line.Length <= series.Length || line[series.Length] is not (' ' or '{')
                || !line.Contains(labelFilter, StringComparison.Ordinal))
            {
                continue;
            }

            int close = line.LastIndexOf('}');
            string rest = line[(close >= 0 ? close + 1 : series.Length)..].Trim();
            sum = (sum ?? 0) + double.Parse(rest.Split(' ')[0], CultureInfo.InvariantCulture);
        }

        return sum;
    }

    /// <summary>Scrapes <c>/metrics</c> at <paramref name="service"/> and reads <paramref name="series"/> (see <see cref="Value"/>).</summary>
    public static async Task<double?> ScrapeAsync(Uri service, string series, string labelFilter = "", CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { BaseAddress = service };
        return Value(await http.GetStringAsync("/metrics", cancellationToken), series, labelFilter);
    }
}
