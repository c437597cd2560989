using System.Globalization;
using System.Text;

namespace Fathom.Testing.Hostile;

/// <summary>The failure message of a hostile-traffic test: the report, then how the innocent streams fared during and after.</summary>
public static class HostileEvidence
{
    /// <summary>The hostile report's summary and violations, and every innocent stream that failed during or after the run.</summary>
    public static string Describe(HostileReport report, InnocentResult during, InnocentResult after)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(during);
        ArgumentNullException.ThrowIfNull(after);
        var text = new StringBuilder(report.Describe());
        text.Append(CultureInfo.InvariantCulture, $"innocent streams during: {during.Runs} run(s), {during.Failures.Count} failed").AppendLine();
        foreach (string line in during.Failures.Take(20))
        {
            text.AppendLine(line);
        }

        text.Append(CultureInfo.InvariantCulture, $"innocent streams after: {after.Runs} run(s), {after.Failures.Count} failed").AppendLine();
        foreach (string line in after.Failures)
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }
}
