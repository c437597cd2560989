using Fathom.Api.Tests.Gateway;
using Fathom.Testing;
using Fathom.Testing.Hostile;

namespace Fathom.Api.Tests.Hostile;

/// <summary>
/// Issue #18's contract through the API gateway in front of two engines: every hostile body gets a 4xx with
/// OpenAI's error JSON (413 for bodies over the API's limit included) or a 200, never a 5xx, a reset or a hang;
/// four innocent streams through the API equal their solo runs byte for byte; the API answers normally afterwards.
/// </summary>
[Collection(nameof(EngineReplicas))]
public sealed class HostileTrafficTests(EngineReplicas replicas)
{
    [Fact]
    public async Task Hostile_bodies_through_the_gateway_get_OpenAI_errors_and_innocent_streams_are_unaffected()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        // No per-key request or stream limits: the suite measures input handling, not rate limiting (429s).
        await using var api = await EngineReplicas.StartApiAsync([replicas.A, replicas.B], ("RequestsPerMinute", "0"), ("ConcurrentStreams", "0"));
        var innocent = new InnocentStreams(new Uri(api.BaseAddress, "v1"), SharedFixtures.Stories260KName, EngineReplicas.Key);
        await innocent.RecordSoloAsync(ct);
        var bodies = HostileBodies.Generate(SharedFixtures.Stories260KName);

        using var http = EngineReplicas.Http(api);
        http.Timeout = Timeout.InfiniteTimeSpan;
        var hostile = HostileTraffic.SendAllAsync(http, bodies, concurrency: 8, timeout: TimeSpan.FromSeconds(30), ct);
        var bystanders = innocent.RunUntilAsync(hostile, maxRounds: 200, ct);
        var report = await hostile;
        var innocentResult = await bystanders;
        var after = await innocent.RunUntilAsync(Task.CompletedTask, maxRounds: 1, ct);

        string message = HostileEvidence.Describe(report, innocentResult, after);
        TestContext.Current.TestOutputHelper?.WriteLine(message);
        Assert.True(report.Results.Count >= 300, $"only {report.Results.Count} bodies");
        Assert.True(report.Violations().Count == 0 && innocentResult.AllMatched && after.AllMatched, message);
        Assert.True(replicas.A.IsRunning && replicas.B.IsRunning, "an engine replica died");
    }
}
