using System.Net;
using System.Net.Http.Json;
using Fathom.Testing;

namespace Fathom.Api.Tests.Gateway;

// One collection: the tests share two engine replicas and measure routing and limits on them, one at a time.
[Collection(nameof(EngineReplicas))]
public sealed class FailoverTests(EngineReplicas replicas)
{
    private static object Request(int conversation) => new
    {
        model = SharedFixtures.Stories260KName,
        max_tokens = 4,
        messages = new[] { new { role = "user", content = $"Tell me story number {conversation}." } },
    };

    [Fact]
    public async Task A_killed_replica_fails_over_before_the_first_byte_drops_out_and_comes_back_when_restarted()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var doomed = await EngineServiceProcess.StartAsync();
        int doomedPort = doomed.BaseAddress.Port;
        string doomedAddress = doomed.BaseAddress.ToString().TrimEnd('/');
        string survivor = replicas.A.BaseAddress.ToString().TrimEnd('/');
        await using var api = await EngineReplicas.StartApiAsync([replicas.A, doomed]);
        using var http = EngineReplicas.Http(api);

        async Task<(HttpStatusCode Status, string Replica, string Route)> SendAsync(int conversation)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", Request(conversation), ct);
            return (response.StatusCode, response.Headers.GetValues("x-fathom-replica").Single().TrimEnd('/'), response.Headers.GetValues("x-fathom-route").Single());
        }

        // A conversation the doomed replica owns.
        int owned = -1;
        for (int c = 0; c < 32 && owned < 0; c++)
        {
            if ((await SendAsync(c)).Replica == doomedAddress)
            {
                owned = c;
            }
        }

        Assert.True(owned >= 0, "no conversation hashed to the second replica");
        doomed.Kill();
        Assert.False(doomed.IsRunning);
        using (var probe = new HttpClient())
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => probe.GetAsync(doomedAddress + "/health", ct));
        }

        var first = await SendAsync(owned);
        Assert.Equal((HttpStatusCode.OK, survivor, "failover"), first);
        for (int c = 0; c < 8; c++)
        {
            var after = await SendAsync(c);
            Assert.Equal(HttpStatusCode.OK, after.Status);
            Assert.Equal(survivor, after.Replica);
        }

        await using var restarted = await EngineServiceProcess.StartAsync(port: doomedPort);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        (HttpStatusCode Status, string Replica, string Route) back;
        do
        {
            await Task.Delay(500, ct);
            back = await SendAsync(owned);
        }
        while (back.Replica != doomedAddress && DateTime.UtcNow < deadline);

        Assert.Equal((HttpStatusCode.OK, doomedAddress, "prefix"), back);
    }
}
