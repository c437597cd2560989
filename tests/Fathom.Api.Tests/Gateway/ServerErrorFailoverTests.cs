using Fathom.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fathom.Api.Tests.Gateway;

// A replica that answers 503 did not take the request (loading, draining); one that answers 500 may have, and a
// request that crashed it would crash the next replica too.
[Collection(nameof(EngineReplicas))]
public sealed class ServerErrorFailoverTests(EngineReplicas replicas)
{
    private static object Request(int conversation) => new
    {
        model = SharedFixtures.Stories260KName,
        max_tokens = 2,
        messages = new[] { new { role = "user", content = $"Tell me story number {conversation}." } },
    };

    [Fact]
    public async Task A_replica_answering_503_before_the_first_byte_is_retried_on_another_replica_and_left_out_afterwards()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var failing = new FakeReplica(503, """{"error":{"message":"draining","type":"service_unavailable","param":null,"code":"draining"}}""");
        string survivor = replicas.A.BaseAddress.ToString().TrimEnd('/');
        await using var api = await EngineReplicas.StartApiAsync([failing.Address, replicas.A.BaseAddress], ("HealthCheckInterval", "00:00:30"));
        using var http = EngineReplicas.Http(api);
        for (int c = 0; c < 16; c++)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", Request(c), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(survivor, response.Headers.GetValues("x-fathom-replica").Single().TrimEnd('/'));
        }

        // The first conversation that hashed to it was answered 503 and retried; after that the replica was out of
        // rotation (its probe, every 30 s here, had no say yet).
        Assert.Equal(1, failing.Requests);
    }

    [Fact]
    public async Task A_500_is_answered_as_it_is_and_never_replayed_on_another_replica()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var crashing = new FakeReplica(500, """{"error":{"message":"the engine failed","type":"server_error","param":null,"code":"engine_failed"}}""");
        await using var counting = new FakeReplica(200, """{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[]}""");
        await using var api = await EngineReplicas.StartApiAsync([crashing.Address, counting.Address]);
        using var http = EngineReplicas.Http(api);
        int errors = 0, oks = 0;
        for (int c = 0; c < 16; c++)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", Request(c), ct);
            if (response.StatusCode == HttpStatusCode.InternalServerError)
            {
                errors++;
                var error = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error");
                Assert.Equal("engine_failed", error.GetProperty("code").GetString());
                Assert.Equal("server_error", error.GetProperty("type").GetString());
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                oks++;
            }
        }

        Assert.True(errors > 0, "no conversation hashed to the crashing replica");
        Assert.Equal(errors, crashing.Requests);
        Assert.Equal(oks, counting.Requests);
    }
}
