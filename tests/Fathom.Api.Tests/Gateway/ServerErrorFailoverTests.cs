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

    [Fact]
    public async Task A_replica_that_dies_after_taking_the_request_gets_an_openai_502_and_no_replay()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var dying = new DyingReplica();
        await using var counting = new FakeReplica(200, """{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[]}""");
        await using var api = await EngineReplicas.StartApiAsync([dying.Address, counting.Address]);
        using var http = EngineReplicas.Http(api);
        int failed = 0;
        for (int c = 0; c < 16; c++)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", Request(c), ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                failed++;
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
                var error = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error");
                Assert.Equal("replica_failed", error.GetProperty("code").GetString());
                Assert.Equal("server_error", error.GetProperty("type").GetString());
            }
        }

        Assert.True(failed > 0, $"no conversation hashed to the dying replica ({dying.Requests} requests reached it)");
        Assert.Equal(failed, dying.Requests);
        Assert.Equal(16 - failed, counting.Requests);
    }

    [Fact]
    public async Task When_no_replica_is_ready_the_client_gets_an_openai_503_with_retry_after()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var draining = new FakeReplica(503, """{"error":{"message":"draining","type":"service_unavailable","param":null,"code":"draining"}}""");
        await using var api = await EngineReplicas.StartApiAsync([draining.Address]);
        using var http = EngineReplicas.Http(api);
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", Request(0), ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error");
        Assert.Equal("no_replica_ready", error.GetProperty("code").GetString());
    }
}
