namespace Fathom.Testing.Hostile;

/// <summary>Sends a set of <see cref="HostileBody"/> with bounded concurrency and checks every answer against the issue #18 contract.</summary>
public static class HostileTraffic
{
    /// <summary>
    /// Sends every body of <paramref name="bodies"/> once, at most <paramref name="concurrency"/> at a time, each
    /// within <paramref name="timeout"/>; the answers come back in the order of <paramref name="bodies"/>.
    /// </summary>
    public static async Task<HostileReport> SendAllAsync(
        HttpClient http, IReadOnlyList<HostileBody> bodies, int concurrency, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        var outcomes = new HostileOutcome[bodies.Count];
        await Parallel.ForAsync(0, bodies.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, ct) => outcomes[i] = await HostileClient.SendAsync(http, bodies[i].Path, bodies[i].Content, timeout, ct));
        return new HostileReport([.. bodies.Zip(outcomes)]);
    }
}
