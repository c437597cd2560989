using Fathom.Testing;
using Fathom.Testing.Hostile;

namespace Fathom.EngineService.Tests.Hostile;

/// <summary>
/// Issue #18's contract on one engine service: hundreds of hostile bodies (<see cref="HostileBodies"/>) get a 4xx
/// with OpenAI's error JSON, or a 200 when valid, never a 5xx, a reset or a hang; four innocent streams running
/// meanwhile equal their solo runs byte for byte; and the service answers normally afterwards.
/// </summary>
public sealed class HostileTrafficTests(EngineServiceFixture fixture)
{
    [Fact]
    public async Task Hostile_bodies_get_OpenAI_errors_and_innocent_streams_are_unaffected()
    {
        var ct = TestContext.Current.CancellationToken;
        fixture.Require();
        var innocent = new InnocentStreams(new Uri(fixture.BaseAddress, "v1"), SharedFixtures.Stories260KName);
        await innocent.RecordSoloAsync(ct);
        var bodies = HostileBodies.Generate(SharedFixtures.Stories260KName);

        using var http = new HttpClient { BaseAddress = fixture.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var hostile = HostileTraffic.SendAllAsync(http, bodies, concurrency: 8, timeout: TimeSpan.FromSeconds(30), ct);
        var bystanders = innocent.RunUntilAsync(hostile, maxRounds: 200, ct);
        var report = await hostile;
        var innocentResult = await bystanders;
        var after = await innocent.RunUntilAsync(Task.CompletedTask, maxRounds: 1, ct);

        string message = HostileEvidence.Describe(report, innocentResult, after);
        TestContext.Current.TestOutputHelper?.WriteLine(message);
        Assert.True(report.Results.Count >= 300, $"only {report.Results.Count} bodies");
        Assert.True(report.Violations().Count == 0 && innocentResult.AllMatched && after.AllMatched, message);
    }
}
