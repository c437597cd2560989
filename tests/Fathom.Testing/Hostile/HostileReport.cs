using System.Globalization;
using System.Text;

namespace Fathom.Testing.Hostile;

/// <summary>Every body sent and its answer, with the contract's verdict on each.</summary>
/// <param name="Results">The bodies in the order they were generated, each with its answer.</param>
public sealed record HostileReport(IReadOnlyList<(HostileBody Body, HostileOutcome Outcome)> Results)
{
    /// <summary>How many answers fell in each class (2xx, 4xx, 5xx, connection, timeout).</summary>
    public IReadOnlyDictionary<OutcomeKind, int> Counts =>
        Enum.GetValues<OutcomeKind>().ToDictionary(k => k, k => Results.Count(r => r.Outcome.Kind == k));

    /// <summary>The answers that break the contract, one line each: what was sent, what came back, what was required.</summary>
    public IReadOnlyList<string> Violations()
    {
        var lines = new List<string>();
        foreach (var (body, outcome) in Results)
        {
            if (Verdict(body, outcome) is { } problem)
            {
                lines.Add($"{body}: {problem} [{outcome.Status}] {outcome.Detail.ReplaceLineEndings(" ")}");
            }
        }

        return lines;
    }

    /// <summary>One line of counts by class, the slowest answer, and how many 4xx lacked OpenAI's error JSON.</summary>
    public string Summary()
    {
        var counts = Counts;
        var slowest = Results.Count == 0 ? TimeSpan.Zero : Results.Max(r => r.Outcome.Elapsed);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Results.Count} bodies: 2xx {counts[OutcomeKind.Success]}, 4xx {counts[OutcomeKind.ClientError]}, 5xx {counts[OutcomeKind.ServerError]}, " +
            $"connection failures {counts[OutcomeKind.Connection]}, timeouts {counts[OutcomeKind.Timeout]}; " +
            $"4xx without error JSON {Results.Count(r => r.Outcome.Kind == OutcomeKind.ClientError && !r.Outcome.ErrorJson)}, " +
            $"200 streams with an error event {Results.Count(r => r.Outcome.SseError)}; slowest answer {slowest.TotalSeconds:F1} s");
    }

    /// <summary>Statuses by count, e.g. <c>200×120 400×300 404×2</c>.</summary>
    public string StatusHistogram() => string.Join(' ', Results.GroupBy(r => r.Outcome.Status).OrderBy(g => g.Key)
        .Select(g => string.Create(CultureInfo.InvariantCulture, $"{(g.Key == 0 ? "none" : g.Key.ToString(CultureInfo.InvariantCulture))}×{g.Count()}")));

    /// <summary>What is wrong with <paramref name="outcome"/> as an answer to <paramref name="body"/>, or null when nothing.</summary>
    public static string? Verdict(HostileBody body, HostileOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(outcome);
        switch (outcome.Kind)
        {
            case OutcomeKind.ServerError:
                return "5xx for an input error";
            case OutcomeKind.Connection:
                return "connection failed";
            case OutcomeKind.Timeout:
                return "timed out";
            case OutcomeKind.ClientError when !outcome.ErrorJson:
                return "4xx without OpenAI error JSON";
            case OutcomeKind.ClientError when body.Expect == HostileExpectation.Accepted:
                return "rejected a valid body";
            // A 413 (body too large) and a 404 (unknown model) name no field; a 400 must name the one at fault.
            case OutcomeKind.ClientError when body.Expect == HostileExpectation.Rejected && body.Param is not null
                && outcome.Status == 400 && outcome.Param != body.Param:
                return $"400 names param '{outcome.Param ?? "(none)"}', expected '{body.Param}'";
            case OutcomeKind.Success when outcome.SseError:
                return "200 stream ended in an error event or without [DONE]";
            case OutcomeKind.Success when body.Expect == HostileExpectation.Rejected:
                return "accepted, expected a 4xx";
            default:
                return null;
        }
    }

    /// <summary>The violations as one message, at most <paramref name="max"/> lines of them.</summary>
    public string Describe(int max = 60)
    {
        var violations = Violations();
        var text = new StringBuilder(Summary()).AppendLine().Append(StatusHistogram()).AppendLine()
            .Append(CultureInfo.InvariantCulture, $"{violations.Count} violation(s):").AppendLine();
        foreach (string line in violations.Take(max))
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }
}
