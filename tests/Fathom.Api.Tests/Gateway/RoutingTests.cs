using Fathom.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fathom.Api.Tests.Gateway;

// One collection: the tests share two engine replicas and measure routing and limits on them, one at a time.
[Collection(nameof(EngineReplicas))]
public sealed class RoutingTests(EngineReplicas replicas)
{
    private static object Conversation(string system, string opening, int turns) => new
    {
        model = SharedFixtures.Stories260KName,
        max_tokens = 4,
        temperature = 0,
        messages = new[] { new { role = "system", content = system }, new { role = "user", content = opening } }
            .Concat(Enumerable.Range(0, turns).SelectMany(t => new[]
            {
                new { role = "assistant", content = $"Answer {t}." },
                new { role = "user", content = $"And then {t}?" },
            })),
    };

    [Fact]
    public async Task A_conversation_stays_on_one_replica_and_different_conversations_use_both()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A, replicas.B]);
        using var http = EngineReplicas.Http(api);

        async Task<(string Replica, string Route)> SendAsync(object body)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", body, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (response.Headers.GetValues("x-fathom-replica").Single(), response.Headers.GetValues("x-fathom-route").Single());
        }

        const string System = "You are a storyteller who tells short stories about animals in the forest.";
        var turns = new List<(string Replica, string Route)>();
        for (int t = 0; t < 4; t++)
        {
            turns.Add(await SendAsync(Conversation(System, "Tell me about the fox.", t)));
        }

        Assert.Single(turns.Select(x => x.Replica).Distinct());
        Assert.All(turns, x => Assert.Equal("prefix", x.Route));

        var owners = new HashSet<string>();
        for (int c = 0; c < 12; c++)
        {
            owners.Add((await SendAsync(Conversation(System, $"Tell me about animal number {c}.", 0))).Replica);
        }

        Assert.Equal(
            new[] { replicas.A.BaseAddress.ToString().TrimEnd('/'), replicas.B.BaseAddress.ToString().TrimEnd('/') }.Order(),
            owners.Select(o => o.TrimEnd('/')).Order());
        Assert.True(await EngineReplicas.MetricAsync(api, "fathom_api_requests_total", "fathom_route=\"prefix\"") >= 16);
    }

    [Fact]
    public async Task Models_are_listed_once_across_replicas_and_request_ids_are_propagated()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var api = await EngineReplicas.StartApiAsync([replicas.A, replicas.B]);
        using var http = EngineReplicas.Http(api);

        var models = await http.GetFromJsonAsync<JsonElement>("/v1/models", ct);
        Assert.Equal([SharedFixtures.Stories260KName], models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { model = SharedFixtures.Stories260KName, prompt = "Once", max_tokens = 2 }),
        };
        request.Headers.Add("x-request-id", "test-request-42");
        using var response = await http.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("test-request-42", response.Headers.GetValues("x-request-id").Single());

        using var fresh = await http.GetAsync("/v1/models", ct);
        Assert.Equal(32, fresh.Headers.GetValues("x-request-id").Single().Length);
    }
}
